"""`fsr import-flow` through subprocesses: precomputed u/v/strain images -> a prepared dataset."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fsr_cli.cache import Cache
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
    Cache(out).claim()  # an fsr cache, e.g. a preprocess run's --cache-dir
    theirs = '{"dataset": "casme2", "params": {"size": 128}, "samples": []}'
    (out / "prepared.json").write_text(theirs)  # that run's manifest
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


def test_an_out_holding_the_imports_own_images_is_refused_and_clear_keeps_them(tmp_path):
    # issue 29 item 1: the natural layout comp/labels.csv + comp/flow/*.png with --out comp
    comp = tmp_path / "comp"
    (comp / "flow").mkdir(parents=True)
    write_rgb(comp / "flow" / "a.png", 200, 100, 50)
    (comp / "labels.csv").write_text(
        "dataset,subject,sample,label,flow\ncasme2,01,EP01,negative,flow/a.png\n"
    )
    before = sorted(p.name for p in comp.rglob("*"))
    r = fsr("import-flow", str(comp / "labels.csv"), "--out", str(comp))
    assert r.returncode == 2 and "holds the import's own input" in r.stderr
    assert f"--out {comp / '.fsr'}" in r.stderr
    assert sorted(p.name for p in comp.rglob("*")) == before  # no marker, no entry written
    r = fsr("cache", "clear", "--cache-dir", str(comp))
    assert r.returncode == 2 and "not an fsr cache" in r.stderr
    assert (comp / "flow" / "a.png").is_file()
    # the suggested folder works, and clearing it leaves the user's images alone
    assert fsr("import-flow", str(comp / "labels.csv"), "--out", str(comp / ".fsr")).returncode == 0
    assert fsr("cache", "clear", str(comp / ".fsr")).returncode == 0
    assert (comp / "flow" / "a.png").is_file() and (comp / "labels.csv").is_file()


def test_a_first_image_too_large_for_a_flow_is_refused_before_decoding(tmp_path):
    # issue 29 item 11: a 20000 x 20000 first row would set S and upscale every later image
    from PIL import Image

    (tmp_path / "f").mkdir()
    Image.new("L", (20000, 20000)).save(tmp_path / "f" / "huge.png", optimize=True)
    Image.new("RGB", (1100, 1100)).save(tmp_path / "f" / "big.png")
    write_rgb(tmp_path / "f" / "ok.png", 1, 2, 3)
    (tmp_path / "l.csv").write_text(
        "dataset,subject,sample,label,flow\n"
        "casme2,01,EP01,negative,f/huge.png\n"
        "casme2,02,EP02,negative,f/ok.png\n"
    )
    r = fsr("import-flow", str(tmp_path / "l.csv"), "--out", str(tmp_path / "o1"), "--json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    assert "more than 16777216 pixels" in doc["failed"][0]["reason"] and doc["size"] == 28
    (tmp_path / "l2.csv").write_text("dataset,subject,sample,label,flow\ncasme2,01,EP01,negative,f/big.png\n")
    r = fsr("import-flow", str(tmp_path / "l2.csv"), "--out", str(tmp_path / "o2"))
    assert r.returncode == 2 and "between 8 and 1024 pixels: give --size" in r.stderr


def test_two_concurrent_imports_of_different_csvs_into_one_out_cannot_both_succeed(labels, tmp_path):
    # issue 29 item 14: the replace check and the manifest write happen under one lock
    other = tmp_path / "other.csv"
    other.write_text("dataset,subject,sample,label,flow\nsmic,s9,s9_po_01,positive,flows/c.png\n")
    out = tmp_path / "shared-out"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "fsr_cli", "import-flow", str(csv), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for csv in (labels, other)
    ]
    codes = [p.wait(timeout=120) for p in procs]
    refused = [c == 2 for c in codes]
    assert sum(refused) == 1, codes  # exactly one finds the other's prepared.json and is refused
    winner = (labels, other)[refused.index(False)]
    assert json.loads((out / "prepared.json").read_text())["source"] == str(winner.resolve())


def test_the_face_keeps_its_own_resolution_or_face_size(labels, tmp_path):
    # issue 31 item 4: a 224 px apex face was stored at the flow's 28 px, then upscaled to 32
    fsr("import-flow", str(labels), "--out", str(tmp_path / "own"))
    own = load_prepared(tmp_path / "own")
    first = next(s for s in own.samples if s.clip == "EP01")
    arrays = own.load(first)
    assert arrays["flow"].shape == (3, 28, 28) and arrays["apex"].shape == (64, 64)  # face.png is 64 px
    fsr("import-flow", str(labels), "--out", str(tmp_path / "small"), "--face-size", "16")
    small = load_prepared(tmp_path / "small")
    assert small.load(next(s for s in small.samples if s.clip == "EP01"))["apex"].shape == (16, 16)
