import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from fsr_cli.cache import Cache
from fsr_cli.data.sample import Sample
from fsr_cli.prepared import load_prepared
from fsr_cli.preprocess import PreprocessConfig, prepare_clip, prepare_dataset
from fsr_cli.preprocess.batch import run_sample
from fsr_cli.preprocess.pipeline import process_sample

FIRST = 46  # CASME II numbers frames from where the clip starts


def write_clip(folder: Path, frames: list[np.ndarray]) -> tuple[Path, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, f in enumerate(frames):
        paths.append(folder / f"img{FIRST + i}.jpg")
        cv2.imwrite(str(paths[-1]), f)
    return tuple(paths)


def make_sample(paths, *, apex: int | None = FIRST + 5, onset: int = FIRST, clip: str = "EP01_01") -> Sample:
    return Sample(
        dataset="casme2",
        subject="01",
        clip=clip,
        frames=tuple(paths),
        frame_numbers=tuple(range(FIRST, FIRST + len(paths))),
        onset=onset,
        apex=apex,
        offset=FIRST + len(paths) - 1,
        emotion="surprise",
        fps=200.0,
        label3="surprise",
    )


@pytest.fixture(scope="module")
def clip_paths(tmp_path_factory, make_brow_clip):
    return write_clip(tmp_path_factory.mktemp("clip") / "EP01_01", make_brow_clip(n=12, apex=5))


def test_prepare_clip_returns_the_documented_arrays(make_brow_clip):
    frames = [cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) for f in make_brow_clip(n=12, apex=5)]  # BGR like a video
    out = prepare_clip(frames, onset=1, apex=6, size=96, fps=200.0)
    assert out["flow"].shape == (3, 96, 96) and out["flow"].dtype == np.float32
    assert out["onset"].shape == out["apex"].shape == (96, 96) and out["apex"].dtype == np.uint8
    assert (out["apex_index"], out["apex_source"], out["detector"]) == (6, "annotated", "hog")
    assert np.allclose(out["box"], [175, 76, 265, 166], atol=3)
    assert set(out["timings"]) == {"load", "face", "align", "apex", "flow"}
    # The brows rise: strong upward (negative v) flow above the eyes, little below the nose.
    v = out["flow"][1]
    assert v[10:26].min() < -1.0 and np.abs(v[70:]).max() < 0.5


def test_a_streamed_clip_gives_the_arrays_of_the_same_clip_in_memory(make_brow_clip, monkeypatch):
    from fsr_cli.preprocess import footage, pipeline

    frames = make_brow_clip(n=30, apex=12, drift=(2.0, 1.0))
    passes = []

    def stream():  # a source decoded anew on every pass, as a video is
        passes.append(1)
        return (f.copy() for f in frames)

    want = prepare_clip(frames, fps=200.0)
    kept = prepare_clip(stream, fps=200.0)  # the face regions kept: one decoding pass
    assert len(passes) == 1
    with monkeypatch.context() as m:
        m.setattr(footage, "KEEP_MARGIN", -0.3)  # regions smaller than the crops: decoded again
        shrunk = prepare_clip(stream, fps=200.0)
    assert len(passes) == 3
    monkeypatch.setattr(pipeline, "KEEP_BYTES", 0)  # too long to keep: the second pass reads again
    got = prepare_clip(stream, fps=200.0)
    assert len(passes) == 5 and got["n_frames"] == 30
    for key in ("flow", "onset", "apex"):
        np.testing.assert_array_equal(got[key], want[key])
        np.testing.assert_array_equal(kept[key], want[key])
        np.testing.assert_array_equal(shrunk[key], want[key])
    assert (got["apex_index"], got["drift_px"]) == (want["apex_index"], want["drift_px"])
    assert got["drift_px"] > 1  # the drift was tracked and removed
    monkeypatch.undo()
    still = prepare_clip(stream, fps=200.0, remove_drift=False)  # every frame still read and spotted
    assert still["n_frames"] == 30 and still["drift_px"] == 0.0 and abs(still["apex_index"] - 12) <= 3


def test_sample_is_cached_and_found_again(tmp_path, clip_paths):
    cache, config = Cache(tmp_path), PreprocessConfig()
    entry, hit = process_sample(make_sample(clip_paths), cache=cache, config=config)
    assert not hit
    arrays = entry.load()
    assert arrays["flow"].shape == (3, 128, 128) and arrays["onset"].dtype == np.uint8
    assert (entry.meta["apex_frame"], entry.meta["apex_source"]) == (FIRST + 5, "annotated")
    again, hit = process_sample(make_sample(clip_paths), cache=cache, config=config)
    assert hit and again.key == entry.key
    forced, hit = process_sample(make_sample(clip_paths), cache=cache, config=config, force=True)
    assert not hit and forced.key == entry.key and np.array_equal(forced.load()["flow"], arrays["flow"])
    assert len(cache.entries()) == 1 and not cache.temporaries()


def test_key_covers_parameters_annotation_and_frame_content(tmp_path, clip_paths):
    cache = Cache(tmp_path / "cache")
    base, _ = process_sample(make_sample(clip_paths), cache=cache, config=PreprocessConfig())
    smaller, hit = process_sample(make_sample(clip_paths), cache=cache, config=PreprocessConfig(size=96))
    assert not hit and smaller.key != base.key and smaller.load()["flow"].shape == (3, 96, 96)
    other_apex, hit = process_sample(
        make_sample(clip_paths, apex=FIRST + 6), cache=cache, config=PreprocessConfig()
    )
    assert not hit and other_apex.key != base.key
    copy = [tmp_path / "copy" / p.name for p in clip_paths]
    write_clip(tmp_path / "copy", [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in clip_paths])
    cv2.imwrite(str(copy[3]), cv2.imread(str(copy[3])), [cv2.IMWRITE_JPEG_QUALITY, 50])  # new bytes
    changed, hit = process_sample(make_sample(copy), cache=cache, config=PreprocessConfig())
    assert not hit and changed.key != base.key


def test_spotted_apex_is_recorded_when_unannotated(tmp_path, clip_paths):
    entry, _ = process_sample(
        make_sample(clip_paths, apex=None), cache=Cache(tmp_path), config=PreprocessConfig()
    )
    assert entry.meta["apex_source"] == "spotted"
    assert abs(entry.meta["apex_frame"] - (FIRST + 5)) <= 2


def test_bad_samples_are_reported_not_raised(tmp_path, clip_paths):
    noise = [np.random.default_rng(i).integers(0, 255, (120, 160), dtype=np.uint8) for i in range(4)]
    faceless = write_clip(tmp_path / "faceless", noise)
    corrupt = write_clip(tmp_path / "corrupt", [cv2.imread(str(p)) for p in clip_paths])
    corrupt[4].write_bytes(b"\xff\xd8 not a jpeg")
    missing = list(clip_paths)
    missing[7] = clip_paths[7].with_name("img999.jpg")
    empty = write_clip(tmp_path / "empty", [cv2.imread(str(p)) for p in clip_paths])
    empty[3].write_bytes(b"")
    frames = [cv2.imread(str(p)) for p in clip_paths]
    frames[2] = cv2.resize(frames[2], (80, 60))
    sizes = write_clip(tmp_path / "sizes", frames)
    w, h = frames[0].shape[1], frames[0].shape[0]
    cases = {
        "empty": (make_sample(empty), rf"^empty frame file {empty[3]} \(0 bytes\)$"),
        "sizes": (
            make_sample(sizes),
            rf"^{sizes[2]}: 80x60 pixels where the clip's first frame {sizes[0].name} is {w}x{h}; "
            "every frame of a clip must have one size$",
        ),
        "no face": (make_sample(faceless, apex=None), rf"^no face found in {faceless[0]}$"),
        "corrupt": (make_sample(corrupt), rf"^unreadable image {corrupt[4]}$"),
        "missing": (make_sample(missing), rf"^missing frame {missing[7]} \(No such file or directory\)$"),
        "onset > apex": (make_sample(clip_paths, onset=FIRST + 6, apex=FIRST + 2), r"^onset 52 > apex 48"),
    }
    cache = Cache(tmp_path / "cache")
    for sample, pattern in cases.values():  # each case fails alone, with its own reason
        outcome = run_sample(sample, cache=cache, config=PreprocessConfig(), force=False)
        assert outcome.prepared is None
        assert outcome.uid == "casme2/01/EP01_01"
        assert re.match(pattern, outcome.error or ""), outcome.error
    assert cache.entries() == []


def test_a_killed_writer_leaves_no_entry(tmp_path):
    cache = Cache(tmp_path)
    cache.claim()  # the writer claimed the folder before it began the entry
    # What a writer killed before os.replace leaves: a temporary folder with a partial file.
    stale = tmp_path / "flow" / "ab" / ".tmp-killed"
    stale.mkdir(parents=True)
    (stale / "arrays.npz").write_bytes(b"PK\x03\x04 partial")
    assert cache.entries() == [] and cache.get("flow", "ab" + "0" * 62) is None
    assert cache.temporaries() == [stale]
    entry = cache.put("flow", "ab" + "1" * 62, {"flow": np.ones((3, 4, 4), np.float32)}, {"sample": "x"})
    assert [e.key for e in cache.entries()] == [entry.key]
    cache.clear()
    assert cache.temporaries() == [] and cache.entries() == []


def test_prepare_dataset_writes_a_manifest_train_can_load(synth_casme2, tmp_path):
    report = prepare_dataset(synth_casme2, cache_root=tmp_path / "cache")
    assert (len(report.ok), report.computed, report.cached, report.failed) == (4, 4, 0, [])
    prepared = load_prepared(synth_casme2, cache_dir=tmp_path / "cache")
    assert prepared.dataset == "casme2" and len(prepared.samples) == 4 and not prepared.scaled
    truth = {r["clip"]: r for r in _truth(synth_casme2)}
    for s in prepared.samples:
        arrays = prepared.load(s)
        assert arrays["flow"].shape == (3, 128, 128) and arrays["apex"].shape == (128, 128)
        assert s.apex == int(truth[s.clip]["apex"]) or s.apex_source == "spotted"
    spotted = [s for s in prepared.samples if s.apex_source == "spotted"]
    assert len(spotted) == 1  # synth writes one CASME II apex as '/'
    assert abs(spotted[0].apex - int(truth[spotted[0].clip]["apex"])) <= 3
    again = prepare_dataset(synth_casme2, cache_root=tmp_path / "cache")
    assert (again.computed, again.cached) == (0, 4)
    assert (
        json.loads(again.manifest.read_text())["samples"]
        == json.loads(report.manifest.read_text())["samples"]
    )


def _truth(root: Path) -> list[dict]:
    import csv

    with open(root / "fsr_ground_truth.csv") as f:
        return list(csv.DictReader(f))
