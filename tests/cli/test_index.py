import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "dataset_builders", Path(__file__).resolve().parents[1] / "data" / "dataset_builders.py"
)
builders = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builders)


def run_fsr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True)


@pytest.fixture
def casme2(tmp_path):
    rows = [
        builders.casme2_row("01", "EP02_01f", 46, 50, 55, "happiness"),
        builders.casme2_row(2, "EP03_02", 10, "/", 14, "others"),
        builders.casme2_row("01", "EP04_01", 5, 3, 8, "surprise"),  # row 4: onset > apex
        builders.casme2_row("02", "EP05_01", 1, 2, 6, "disgust"),  # row 5: frame 4 missing
    ]
    frames = {
        ("sub01", "EP02_01f"): range(46, 56),
        ("sub02", "EP03_02"): range(10, 15),
        ("sub01", "EP04_01"): range(1, 10),
        ("sub02", "EP05_01"): [1, 2, 3, 5, 6],
    }
    return builders.make_casme2(tmp_path / "CASME2", rows, frames=frames)


def test_all_good_rows_exit_0_with_the_json_document(tmp_path):
    root = builders.make_smic(
        tmp_path, {("s1", "negative", "s1_ne_01"): range(5, 9), ("s2", "surprise", "s2_sur_01"): range(3)}
    )
    r = run_fsr("index", str(root), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc == {
        "dataset": "smic",
        "root": str(root),
        "n_samples": 2,
        "samples": [
            {
                "dataset": "smic",
                "subject": "s1",
                "clip": "s1_ne_01",
                "onset": 5,
                "apex": None,
                "offset": 8,
                "emotion": "negative",
                "label3": "negative",
                "n_frames": 4,
            },
            {
                "dataset": "smic",
                "subject": "s2",
                "clip": "s2_sur_01",
                "onset": 0,
                "apex": None,
                "offset": 2,
                "emotion": "surprise",
                "label3": "surprise",
                "n_frames": 3,
            },
        ],
        "problems": [],
        "counts": {
            "label_set": "composite",
            "classes": ["negative", "positive", "surprise"],
            "by_label": {"negative": 1, "positive": 0, "surprise": 1, "outside_set": 0},
            "by_subject": {
                "s1": {"negative": 1, "positive": 0, "surprise": 0, "outside_set": 0},
                "s2": {"negative": 0, "positive": 0, "surprise": 1, "outside_set": 0},
            },
            "left_out": [],
        },
    }
    assert r.stderr.strip() == "smic: 2 ok, 0 skipped"


def test_skipped_rows_exit_3_and_are_listed(casme2):
    r = run_fsr("index", str(casme2), "--json", "--labels", "casme2-5")
    assert r.returncode == 3
    doc = json.loads(r.stdout)
    assert [(s["subject"], s["clip"], s["apex"]) for s in doc["samples"]] == [
        ("01", "EP02_01f", 50),
        ("02", "EP03_02", None),
    ]
    assert doc["problems"] == [
        {
            "source": "CASME2-coding-20140508.xlsx:row 4",
            "reason": "frames out of order: onset 5, apex 3, offset 8 (need onset <= apex <= offset)",
        },
        {
            "source": "CASME2-coding-20140508.xlsx:row 5",
            "reason": "1 missing frame(s) of 1..6 in CASME2_RAW_selected/sub02/EP05_01: 4",
        },
    ]
    assert doc["counts"]["by_label"] == {
        "happiness": 1,
        "surprise": 0,
        "disgust": 0,
        "repression": 0,
        "others": 1,
        "outside_set": 0,
    }
    assert r.stderr.strip() == "casme2: 2 ok, 2 skipped"


def test_table_and_problems_on_stderr(casme2):
    r = run_fsr("index", str(casme2), "--dataset", "casme2")
    assert r.returncode == 3 and r.stdout == ""
    lines = r.stderr.rstrip().splitlines()
    assert lines[-4:] == [
        "skipped 2 row(s):",
        "  CASME2-coding-20140508.xlsx:row 4: frames out of order: onset 5, apex 3, offset 8 "
        "(need onset <= apex <= offset)",
        "  CASME2-coding-20140508.xlsx:row 5: 1 missing frame(s) of 1..6 in "
        "CASME2_RAW_selected/sub02/EP05_01: 4",
        "casme2: 2 ok, 2 skipped",
    ]


def test_usage_and_runtime_errors(tmp_path):
    r = run_fsr("index", str(tmp_path / "nope"))
    assert (r.returncode, r.stderr.strip()) == (2, f"error: {tmp_path / 'nope'}: no such folder")
    r = run_fsr("index", str(tmp_path), "--dataset", "casme")
    assert r.returncode == 2
    assert (
        r.stderr.strip()
        == "error: unknown dataset kind 'casme'; choose one of: auto, casme2, samm, smic, casme3, mmew"
    )
    builders.write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx", [["no header here"]])
    r = run_fsr("index", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f"error: {tmp_path / 'CASME2-coding-20140508.xlsx'}: no header row with a 'Subject' cell in any "
        "sheet ('Sheet1'); expected the CASME II coding sheet"
    )
