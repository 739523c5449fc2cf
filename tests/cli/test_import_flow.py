"""`fsr import-flow` through subprocesses: precomputed u/v/strain images -> a prepared dataset."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fsr_cli.prepared import load_prepared


def fsr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True, timeout=60
    )


def write_rgb(path: Path, r: int, g: int, b: int, size: int = 28) -> None:
    img = np.empty((size, size, 3), np.uint8)
    img[...] = (b, g, r)  # OpenCV writes BGR
    img[0, 0] = (0, 0, 0)  # a min-max scaled image spans 0..255
    cv2.imwrite(str(path), img)


@pytest.fixture
def labels(tmp_path) -> Path:
    (tmp_path / "flows").mkdir()
    write_rgb(tmp_path / "flows" / "a.png", 200, 100, 50)
    write_rgb(tmp_path / "flows" / "b.png", 10, 20, 30, size=56)  # resized to the first's 28
    write_rgb(tmp_path / "flows" / "c.png", 1, 2, 3)
    cv2.imwrite(str(tmp_path / "flows" / "face.png"), np.full((64, 64), 77, np.uint8))
    (tmp_path / "flows" / "torn.png").write_bytes(b"\x89PNG torn")
    (tmp_path / "labels.csv").write_text(
        "dataset,subject,sample,label,flow,appearance\n"
        "casme2,01,EP01,negative,flows/a.png,flows/face.png\n"  # row 2
        "samm,006,006_1_2,Happiness,flows/b.png,\n"  # row 3
        "smic,s1,s1_ne_01,bored,flows/c.png,\n"  # row 4: unknown label
        "smic,s2,s2_po_01,positive,flows/none.png,\n"  # row 5: missing file
        "smic,s3,s3_sur_01,surprise,flows/torn.png,\n"  # row 6: unreadable
        "smic,s4,s4_sur_01,surprise,flows/c.png,\n"  # row 7
    )
    return tmp_path / "labels.csv"


def test_good_rows_become_a_prepared_dataset_and_bad_rows_are_listed(labels, tmp_path):
    r = fsr("import-flow", str(labels), "--out", str(tmp_path / "out"), "--json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["rows"], doc["ok"], doc["computed"], doc["size"]) == (6, 3, 3, 28)
    failed = {f["row"]: f["reason"] for f in doc["failed"]}
    assert set(failed) == {4, 5, 6}
    assert failed[4].startswith("unknown label 'bored'")
    assert failed[5] == f"missing file {labels.parent / 'flows' / 'none.png'}"
    assert failed[6] == f"unreadable image {labels.parent / 'flows' / 'torn.png'}"

    prepared = load_prepared(tmp_path / "out")
    assert prepared.scaled and prepared.dataset == "imported"  # several datasets in one CSV
    by_clip = {s.clip: s for s in prepared.samples}
    assert (by_clip["EP01"].label3, by_clip["006_1_2"].emotion, by_clip["006_1_2"].label3) == (
        "negative",
        "happiness",
        "positive",
    )
    assert {s.apex_source for s in prepared.samples} == {"imported"}
    a = prepared.load(by_clip["EP01"])
    assert a["flow"].shape == (3, 28, 28) and a["flow"].dtype == np.float32
    assert np.allclose(a["flow"][:, 5, 5], np.array([200, 100, 50]) / 255)  # R=u, G=v, B=strain
    assert (a["apex"] == 77).all() and (a["onset"] == 0).all()
    assert (prepared.load(by_clip["006_1_2"])["apex"] == 0).all()  # no appearance image

    again = json.loads(fsr("import-flow", str(labels), "--out", str(tmp_path / "out"), "--json").stdout)
    assert (again["computed"], again["cached"]) == (0, 3)


def test_channels_name_the_file_order(labels, tmp_path):
    r = fsr("import-flow", str(labels), "--out", str(tmp_path / "vus"), "--channels", "vus", "--size", "16")
    assert r.returncode == 3, r.stderr  # the fixture's bad rows
    prepared = load_prepared(tmp_path / "vus")
    arrays = prepared.load(next(s for s in prepared.samples if s.clip == "EP01"))
    assert arrays["flow"].shape == (3, 16, 16)
    assert np.allclose(arrays["flow"][:, 8, 8], np.array([100, 200, 50]) / 255)  # R holds v, G holds u


def test_usage_errors_exit_2(labels, tmp_path):
    r = fsr("import-flow", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "absent.csv: no such file" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("dataset,subject,label\ncasme2,01,negative\n")
    r = fsr("import-flow", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "missing column(s) sample, flow" in r.stderr
    r = fsr("import-flow", str(labels), "--out", str(tmp_path / "o"), "--channels", "uvx")
    assert r.returncode == 2 and "--channels must arrange the letters u, v, s" in r.stderr


def test_an_import_onto_another_prepared_dataset_is_refused_without_force(labels, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    theirs = '{"dataset": "casme2", "params": {"size": 128}, "samples": []}'
    (out / "prepared.json").write_text(theirs)  # e.g. a preprocess run's manifest
    r = fsr("import-flow", str(labels), "--out", str(out))
    assert r.returncode == 2 and "--force" in r.stderr
    assert (out / "prepared.json").read_text() == theirs  # nothing replaced

    r = fsr("import-flow", str(labels), "--out", str(out), "--force")
    assert r.returncode == 3, r.stderr  # imported; the fixture's bad rows remain
    assert load_prepared(out).dataset == "imported"
    r = fsr("import-flow", str(labels), "--out", str(out))  # the same CSV again: no --force needed
    assert r.returncode == 3, r.stderr


def test_no_importable_row_is_an_error(tmp_path):
    header = "dataset,subject,sample,label,flow,appearance\n"
    (tmp_path / "empty.csv").write_text(header)
    r = fsr("import-flow", str(tmp_path / "empty.csv"), "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and f"{tmp_path / 'empty.csv'}: a header but no data rows" in r.stderr
    (tmp_path / "latin.csv").write_bytes((header + "smic,s1,s1_po_01,positive,f/é.png,\n").encode("latin-1"))
    r = fsr("import-flow", str(tmp_path / "latin.csv"), "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and "not UTF-8 text" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "bad.csv").write_text(header + "smic,s1,s1_po_01,positive,none.png,\n")
    r = fsr("import-flow", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "out"), "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["exit_code"] == 1
    assert not (tmp_path / "out" / "prepared.json").exists()
