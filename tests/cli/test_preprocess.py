"""`fsr preprocess` end to end through subprocesses, on a synthesised CASME II-layout dataset."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fsr_cli.prepared import load_prepared


def fsr(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """2 subjects x 3 clips; one apex written '/'."""
    from fsr_cli.synth import write_dataset

    return write_dataset(
        tmp_path_factory.mktemp("ds") / "casme2", layout="casme2", subjects=2, clips=3, seed=1
    )


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory):
    """The prepared set of an uninterrupted in-process run: what every run must reproduce."""
    from fsr_cli.preprocess import prepare_dataset

    root = tmp_path_factory.mktemp("reference")
    prepare_dataset(dataset, cache_root=root)
    return load_prepared(root)


def assert_same_artifacts(cache: Path, reference) -> None:
    got = load_prepared(cache)
    assert [s.__dict__ for s in got.samples] == [s.__dict__ for s in reference.samples]
    for s in got.samples:
        a, b = got.load(s), reference.load(s)
        assert all(np.array_equal(a[k], b[k]) for k in ("flow", "onset", "apex"))


def test_two_workers_then_a_second_run_computes_nothing(dataset, reference, tmp_path):
    first = fsr("preprocess", str(dataset), "--workers", "2", "--cache-dir", str(tmp_path), "--json")
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    (ds,) = doc["datasets"]
    assert (doc["ok"], doc["computed"], doc["cached"], doc["failed"], doc["exit_code"]) == (6, 6, 0, 0, 0)
    assert ds["cache"] == str(tmp_path) and ds["manifest"] == str(tmp_path / "prepared.json")
    assert ds["dataset"] == "casme2" and ds["skipped"] == [] and ds["failed"] == []
    assert_same_artifacts(tmp_path, reference)

    second = json.loads(fsr("preprocess", str(dataset), "--cache-dir", str(tmp_path), "--json").stdout)
    assert (second["ok"], second["computed"], second["cached"]) == (6, 0, 6)


def test_default_cache_is_inside_the_dataset(dataset, tmp_path):
    copy = shutil.copytree(dataset, tmp_path / "casme2")
    r = fsr("preprocess", str(copy), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["datasets"][0]["cache"] == str(copy / ".fsr")
    assert load_prepared(copy).root == copy / ".fsr"
    # remembered for a bare `fsr train` (the suite's own cache home, tests/conftest.py)
    record = Path(os.environ["XDG_CACHE_HOME"]) / "fsr" / "last-prepared.json"
    assert json.loads(record.read_text())["manifests"] == [str((copy / ".fsr" / "prepared.json").resolve())]


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("flow/??/*/meta.json"))


def test_kill_mid_run_then_resume_gives_the_same_artifacts(dataset, reference, tmp_path):
    cmd = [sys.executable, "-m", "fsr_cli", "preprocess", str(dataset), "--cache-dir", str(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not _entries(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9, workers included
    proc.wait()
    done = len(_entries(tmp_path))
    assert 1 <= done < 6, "the run must be killed after its first entry and before its last"
    assert not (tmp_path / "prepared.json").exists()
    from fsr_cli.cache import Cache

    for entry in Cache(tmp_path).entries():  # whatever is there is whole
        assert entry.load()["flow"].shape == (3, 128, 128)

    r = fsr("preprocess", str(dataset), "--cache-dir", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["ok"], doc["cached"], doc["computed"]) == (6, done, 6 - done)
    assert_same_artifacts(tmp_path, reference)


def _set_apex(xlsx: Path, clip: str, value) -> None:
    import openpyxl

    book = openpyxl.load_workbook(xlsx)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("Filename")].value == clip:
            row[header.index("ApexFrame")].value = value
    book.save(xlsx)


def test_bad_samples_are_listed_and_the_others_finish(dataset, tmp_path):
    import cv2

    root = shutil.copytree(dataset, tmp_path / "casme2")
    clips = sorted(p for p in (root / "CASME2_RAW_selected").glob("sub*/*") if p.is_dir())
    frames = [sorted(c.glob("*.jpg"), key=lambda p: int(p.stem[3:])) for c in clips]
    frames[0][3].write_bytes(b"\xff\xd8 torn file")  # corrupt image
    shape = cv2.imread(str(frames[1][0])).shape
    for i, f in enumerate(frames[1]):  # no face anywhere
        cv2.imwrite(str(f), np.random.default_rng(i).integers(0, 255, shape, dtype=np.uint8))
    frames[2][2].unlink()  # a missing frame
    onset = int(frames[3][0].stem[3:])
    _set_apex(next(root.glob("CASME2-coding-*.xlsx")), clips[3].name, onset - 1)  # apex before onset

    r = fsr("preprocess", str(root), "--cache-dir", str(tmp_path / "cache"), "--json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    (ds,) = doc["datasets"]
    assert (doc["ok"], doc["failed"], doc["skipped"], doc["exit_code"]) == (2, 2, 2, 3)
    failed = {f["sample"].split("/")[-1]: f["reason"] for f in ds["failed"]}
    assert failed[clips[0].name] == f"unreadable image {frames[0][3]}"
    assert failed[clips[1].name] == f"no face found in {frames[1][0]}"
    skipped = " | ".join(s["reason"] for s in ds["skipped"])
    assert "missing frame" in skipped and str(int(frames[2][2].stem[3:])) in skipped
    assert "out of order" in skipped and f"apex {onset - 1}" in skipped
    assert len(load_prepared(tmp_path / "cache").samples) == 2

    table = fsr("preprocess", str(root), "--cache-dir", str(tmp_path / "cache"))
    assert table.returncode == 3 and table.stdout == ""
    assert "no face found" in table.stderr and "not prepared" in table.stderr


def test_usage_errors_exit_2(tmp_path):
    r = fsr("preprocess", str(tmp_path / "absent"))
    assert r.returncode == 2 and f"{tmp_path / 'absent'}: no such folder" in r.stderr
    r = fsr("preprocess", str(tmp_path), "--dataset", "casme9")
    assert r.returncode == 2 and "unknown dataset kind 'casme9'" in r.stderr


def test_a_dataset_that_cannot_be_read_does_not_stop_the_others(dataset, tmp_path):
    bad = tmp_path / "torn"
    bad.mkdir()
    (bad / "CASME2-coding-20140508.xlsx").write_bytes(b"PK\x03\x04 torn")
    r = fsr("preprocess", str(bad), str(dataset), "--cache-dir", str(tmp_path / "cache"), "--json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    first, second = doc["datasets"]
    assert first["source"] == str(bad) and "not a readable .xlsx file" in first["error"]
    assert second["ok"] == 6 and doc["unread_datasets"] == 1 and doc["ok"] == 6
    table = fsr("preprocess", str(bad), str(dataset), "--cache-dir", str(tmp_path / "cache"))
    assert table.returncode == 3 and "not read:" in table.stderr and "fsr preprocess" in table.stderr


def test_nothing_prepared_is_exit_1_and_writes_no_manifest(tmp_path):
    from tests.data.dataset_builders import CASME2_HEADER, write_xlsx

    header_only = tmp_path / "empty"
    write_xlsx(header_only / "CASME2-coding-20140508.xlsx", [CASME2_HEADER])
    (header_only / "CASME2_RAW_selected").mkdir()
    r = fsr("preprocess", str(header_only))
    assert r.returncode == 1 and "has a header (row 1) but no data rows" in r.stderr
    assert not (header_only / ".fsr" / "prepared.json").exists()


def test_an_unwritable_cache_is_found_before_any_clip(dataset, tmp_path):
    from fsr_cli.errors import CacheError
    from fsr_cli.preprocess import Events, prepare_dataset

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = fsr("preprocess", str(dataset), "--cache-dir", str(blocker / "cache"))
    assert r.returncode == 1 and f"cache {blocker / 'cache'} is not writable" in r.stderr

    class Count(Events):
        stages = 0

        def stage_done(self, stage):
            Count.stages += 1

    with pytest.raises(CacheError):
        prepare_dataset(dataset, cache_root=blocker / "cache", events=Count())
    assert Count.stages == 0  # refused up front, before any clip was computed


@pytest.mark.slow
def test_ray_gives_the_local_summary_exit_code_and_artifacts(dataset, reference, tmp_path):
    root = shutil.copytree(dataset, tmp_path / "casme2")
    clips = sorted(p for p in (root / "CASME2_RAW_selected").glob("sub*/*") if p.is_dir())
    sorted(clips[0].glob("*.jpg"), key=lambda p: int(p.stem[3:]))[3].write_bytes(b"\xff\xd8 torn file")
    runs = {}
    for name, extra in (("local", ("--workers", "2")), ("ray", ("--executor", "ray"))):
        r = fsr("preprocess", str(root), "--cache-dir", str(tmp_path / name), "--json", *extra)
        assert r.returncode == 3, r.stderr  # one clip failed, the others are prepared
        runs[name] = json.loads(r.stdout)

    def plain(doc):
        (ds,) = doc["datasets"]
        return {**{k: v for k, v in doc.items() if k != "datasets"}, "failed_list": ds["failed"]}

    assert plain(runs["ray"]) == plain(runs["local"]) and runs["ray"]["ok"] == 5
    got, want = load_prepared(tmp_path / "ray"), load_prepared(tmp_path / "local")
    assert [s.entry for s in got.samples] == [s.entry for s in want.samples]


def test_a_cache_dir_holding_another_datasets_manifest_is_not_replaced(dataset, tmp_path):
    # two datasets given one --cache-dir: the second silently replaced the first's prepared.json
    from fsr_cli.cache import Cache

    shared = tmp_path / "shared"
    Cache(shared).claim()
    theirs = json.dumps({"format": "fsr-prepared", "version": 1, "source": "/data/samm", "samples": []})
    (shared / "prepared.json").write_text(theirs)
    r = fsr("preprocess", str(dataset), "--cache-dir", str(shared))
    assert r.returncode == 2 and "already holds a prepared dataset of /data/samm" in r.stderr
    assert (shared / "prepared.json").read_text() == theirs
