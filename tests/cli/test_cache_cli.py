"""`fsr cache ls|info|clear` through subprocesses, on a cache built with the cache layer itself."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fsr_cli.cache import Cache, make_key
from fsr_cli.errors import UsageError
from fsr_cli.prepared import PreparedSample, write_manifest


def fsr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A dataset folder whose .fsr/ holds 3 flow entries, 1 other-stage entry, prepared.json and a
    temporary left by a killed writer."""
    cache = Cache(tmp_path / ".fsr")
    records = []
    for i in range(3):
        key = make_key("flow", 1, {"i": i}, [])
        arrays = {"flow": np.full((3, 8, 8), i, np.float32), "onset": np.zeros((8, 8), np.uint8)}
        entry = cache.put("flow", key, arrays, {"sample": f"casme2/01/EP0{i}"})
        records.append(
            PreparedSample(
                "casme2",
                "01",
                f"EP0{i}",
                "surprise",
                "surprise",
                1,
                2,
                3,
                "annotated",
                f"flow/{key[:2]}/{key}",
            )
        )
        assert entry.path.is_dir()
    cache.put("align", make_key("align", 1, {}, []), {"points": np.zeros((68, 2))}, {})
    write_manifest(cache, dataset="casme2", source=tmp_path, params={}, samples=records)
    (tmp_path / ".fsr" / "flow" / "zz" / ".tmp-killed").mkdir(parents=True)
    return tmp_path


def test_ls_lists_entries_with_their_sample(dataset):
    r = fsr("cache", "ls", str(dataset), "--stage", "flow", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["root"] == str(dataset / ".fsr")
    assert sorted(e["sample"] for e in doc["entries"]) == [
        "casme2/01/EP00",
        "casme2/01/EP01",
        "casme2/01/EP02",
    ]
    assert all(e["stage"] == "flow" and e["bytes"] > 0 and len(e["key"]) == 64 for e in doc["entries"])
    everything = json.loads(fsr("cache", "ls", "--cache-dir", str(dataset / ".fsr"), "--json").stdout)
    assert len(everything["entries"]) == 4


def test_info_counts_stages_temporaries_and_the_manifest(dataset):
    doc = json.loads(
        fsr("cache", "info", str(dataset / ".fsr"), "--json").stdout
    )  # the root itself works too
    assert doc["stages"]["flow"]["entries"] == 3 and doc["stages"]["align"]["entries"] == 1
    assert doc["entries"] == 4 and doc["temporaries"] == 1
    assert doc["manifest"]["samples"] == 3 and doc["manifest"]["missing_entries"] == 0
    table = fsr("cache", "info", str(dataset))
    assert table.returncode == 0 and table.stdout == ""
    assert "flow" in table.stderr and "1 unfinished" in table.stderr


def test_clear_one_stage_then_all(dataset):
    doc = json.loads(fsr("cache", "clear", str(dataset), "--stage", "align", "--json").stdout)
    assert (doc["removed"], doc["manifest_removed"]) == (1, False)
    doc = json.loads(fsr("cache", "clear", str(dataset), "--json").stdout)
    assert (doc["removed"], doc["manifest_removed"]) == (4, True)  # 3 entries + the temporary
    info = json.loads(fsr("cache", "info", str(dataset), "--json").stdout)
    assert (info["entries"], info["temporaries"], info["manifest"]) == (0, 0, None)


def test_a_missing_folder_is_a_usage_error(tmp_path):
    r = fsr("cache", "ls", str(tmp_path / "absent"))
    assert r.returncode == 2 and "no such folder" in r.stderr


def test_clear_removes_only_what_the_cache_owns(dataset):
    """A dataset's frames are never removed: not via --cache-dir DATASET, not via a --stage path."""
    frames = dataset / "sub01" / "EP01"
    frames.mkdir(parents=True)
    (frames / "img1.jpg").write_bytes(b"frame")
    for args in (
        ("--cache-dir", str(dataset)),  # the dataset itself given as the cache root: no marker
        (str(dataset), "--stage", "../sub01"),  # a path as a stage
        (str(dataset), "--stage", "landmarks"),  # an unknown stage
    ):
        r = fsr("cache", "clear", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("error: ")
        assert "nothing removed" in r.stderr or "unknown --stage" in r.stderr
        assert (frames / "img1.jpg").read_bytes() == b"frame"
    assert json.loads(fsr("cache", "info", str(dataset), "--json").stdout)["entries"] == 4


def test_info_shows_a_damaged_manifest_in_its_table(dataset):
    manifest = dataset / ".fsr" / "prepared.json"
    manifest.write_text(manifest.read_text()[:-40])  # a torn tail
    r = fsr("cache", "info", str(dataset))
    assert r.returncode == 0 and "prepared.json: damaged" in r.stderr


def test_concurrent_manifest_writers_never_collide(tmp_path):
    """Each writer has its own temporary, so parallel writes all succeed and leave valid JSON."""
    from concurrent.futures import ThreadPoolExecutor

    cache = Cache(tmp_path)

    def write(i):
        return write_manifest(cache, dataset="casme2", source=tmp_path, params={"i": i}, samples=[])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(64)))
    assert json.loads((tmp_path / "prepared.json").read_text())["dataset"] == "casme2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fsr-cache", "prepared.json"]


def test_a_non_empty_folder_fsr_did_not_make_is_never_adopted(tmp_path):
    # issue 29 item 2: `--cache-dir ~` adopted the home folder, then clear removed ~/face and ~/align
    home = tmp_path / "home"
    (home / "face").mkdir(parents=True)
    (home / "face" / "me.jpg").write_bytes(b"mine")
    (home / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="did not make and it is not empty .* e.g. .*home/.fsr"):
        Cache(home).claim()
    with pytest.raises(UsageError):
        write_manifest(Cache(home), dataset="casme2", source=tmp_path, params={}, samples=[])
    assert sorted(p.name for p in home.iterdir()) == ["face", "notes.txt"]  # no marker written
    r = fsr("cache", "clear", "--cache-dir", str(home))
    assert r.returncode == 2 and "not an fsr cache" in r.stderr and (home / "face" / "me.jpg").is_file()
    Cache(tmp_path / "new").claim()  # a new folder, or an empty one, becomes a cache
    (tmp_path / "empty").mkdir()
    Cache(tmp_path / "empty").claim()
    assert (tmp_path / "new" / ".fsr-cache").is_file() and (tmp_path / "empty" / ".fsr-cache").is_file()


def test_clear_removes_entries_only_never_a_users_file_under_a_stage_name(dataset):
    root = dataset / ".fsr"
    (root / "face" / "me").mkdir(parents=True)
    (root / "face" / "me" / "photo.jpg").write_bytes(b"mine")  # not an entry: no key, no meta.json
    (root / "flow" / "ab").mkdir(exist_ok=True)
    (root / "flow" / "ab" / "notes.txt").write_text("mine")
    r = fsr("cache", "clear", str(dataset), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["removed"] == 5  # 4 entries and the killed writer's temporary
    assert (root / "face" / "me" / "photo.jpg").read_bytes() == b"mine"
    assert (root / "flow" / "ab" / "notes.txt").read_text() == "mine"
    assert not (root / "align").exists()  # emptied stage folders go


def test_clear_on_a_read_only_file_system_is_one_line_naming_the_folder(dataset, monkeypatch):
    # issue 29 item 19: "Read-only file system: 'meta.json'" named no folder (root ignores chmod,
    # so the file system's answer is given here as the kernel gives it)
    import errno

    from fsr_cli import cache as cache_module
    from fsr_cli.errors import FsrError

    def read_only(path, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", "meta.json")

    monkeypatch.setattr(cache_module.shutil, "rmtree", read_only)
    with pytest.raises(FsrError) as err:
        Cache(dataset / ".fsr").clear()
    text = str(err.value)
    assert "\n" not in text and "could not be removed (Read-only file system)" in text
    assert str(dataset / ".fsr") in text


def test_cache_entries_and_manifests_respect_the_umask(tmp_path):
    # issue 29 item 18: mkdtemp/mkstemp made them 0700/0600, unreadable by colleagues
    old = os.umask(0o022)
    try:
        cache = Cache(tmp_path / "c")
        entry = cache.put("flow", make_key("flow", 1, {}, []), {"a": np.zeros(2)}, {})
        manifest = write_manifest(cache, dataset="casme2", source=tmp_path, params={}, samples=[])
    finally:
        os.umask(old)
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o755
    assert stat.S_IMODE((entry.path / "arrays.npz").stat().st_mode) == 0o644
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["samples"][0].update(entry="../../outside/e"), "is not a cache entry"),
        (lambda d: d["samples"][0].update(entry="/etc"), "is not a cache entry"),
        (lambda d: d["samples"][0].update(extra=1), "is damaged (fields"),
        (lambda d: d["samples"][0].pop("apex"), "is damaged (fields"),
        (lambda d: d["samples"][0].update(onset="one"), "is damaged (onset = 'one')"),
        (lambda d: d.update(samples={"a": 1}), "damaged (no samples list)"),
    ],
)
def test_an_edited_or_damaged_manifest_is_one_line_naming_it(dataset, edit, message):
    # issue 29 items 15 and 19
    from fsr_cli.errors import FsrError
    from fsr_cli.prepared import load_prepared

    path = dataset / ".fsr" / "prepared.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(FsrError) as err:
        load_prepared(dataset)
    assert message in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("text", ["[1, 2]", '{"format": "fsr-prepared", "ver'])
def test_a_truncated_or_listed_manifest_is_refused_by_train(dataset, text, tmp_path):
    (dataset / ".fsr" / "prepared.json").write_text(text)
    r = fsr("train", str(dataset), "--out", str(tmp_path / "run"), "--epochs", "1", "--protocol", "loso")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "prepared.json: damaged" in r.stderr, r.stderr
