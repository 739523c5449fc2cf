"""`fsr synth` through the real command line (subprocess)."""

import json
import subprocess
import sys


def run_fsr(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True, cwd=cwd)


def test_synth_json_document(tmp_path):
    out = tmp_path / "smic"
    r = run_fsr(
        "synth",
        str(out),
        "--layout",
        "smic",
        "--subjects",
        "2",
        "--clips",
        "1",
        "--seed",
        "3",
        "--angle",
        "30",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {
        "root",
        "layout",
        "n_clips",
        "n_subjects",
        "seed",
        "angle_deg",
        "ground_truth",
        "bytes",
    }
    assert doc["root"] == str(out.resolve()) and doc["layout"] == "smic"
    assert (doc["n_clips"], doc["n_subjects"], doc["seed"], doc["angle_deg"]) == (2, 2, 3, 30.0)
    assert doc["ground_truth"] == str(out.resolve() / "fsr_ground_truth.csv")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert doc["bytes"] == sum(p.stat().st_size for p in files)
    assert len((out / "fsr_ground_truth.csv").read_text().splitlines()) == 3


def test_synth_summary_goes_to_stderr(tmp_path):
    r = run_fsr("synth", str(tmp_path / "v"), "--layout", "video", "--subjects", "1", "--clips", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert "wrote 1 video clips of 1 subject (640x480, 200 fps)" in r.stderr
    assert (tmp_path / "v" / "clips" / "sub01_01.mp4").is_file()


def _one_line_usage_error(r, message):
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [f"error: {message}"]


def test_unknown_layout(tmp_path):
    r = run_fsr("synth", str(tmp_path / "x"), "--layout", "mmew")
    _one_line_usage_error(r, "unknown layout 'mmew'; choose one of: casme2, samm, smic, video, long")


def test_non_empty_foreign_folder(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n")
    r = run_fsr("synth", str(tmp_path), "--layout", "casme2")
    _one_line_usage_error(
        r,
        f"{tmp_path} is not empty and is not an earlier `fsr synth` output (no readable fsr_synth.json); "
        "give a new or empty folder",
    )


def test_zero_subjects(tmp_path):
    r = run_fsr("synth", str(tmp_path / "x"), "--subjects", "0")
    _one_line_usage_error(r, "--subjects must be between 1 and 99, got 0")
    assert not (tmp_path / "x").exists()


def test_help_has_an_example():
    r = run_fsr("synth", "--help")
    assert r.returncode == 0
    assert "Example: fsr synth demo/casme2 --layout casme2" in r.stdout
