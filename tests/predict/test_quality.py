"""The quality gate of `fsr predict`: lab footage passes, footage fsr cannot read gets no label."""

import json
from pathlib import Path

import numpy as np
import pytest

from fsr_cli.predict.quality import assess

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-video" / "short_hamilton_clip.mp4"


def prepared(**kw) -> dict:
    flow = np.zeros((3, 128, 128), np.float32)
    flow[0, 60, 60] = kw.pop("peak", 1.5)
    return {"flow": flow, "faces": 1, "iod_px": 136.0, "drift_px": 0.6, "track_residual_px": 1.0, **kw}


@pytest.mark.parametrize(
    "change, reason",
    [
        ({}, None),
        ({"faces": 2}, "2 faces on the onset frame"),
        ({"iod_px": 18.0, "drift_px": 0.0, "track_residual_px": 0.0}, "the face is too small (18 px"),
        ({"drift_px": 80.0}, "the head moved 80 px from the onset"),
        ({"track_residual_px": 20.0}, "the face was not tracked through the clip"),
        ({"peak": 30.0}, "the flow peaks at 30 px (at most 20"),
        ({"shot_cuts": [7]}, "a shot cut at frame 7 from the onset"),
        ({"blink_frames": [3, 4, 5], "apex_index": 14, "onset_index": 10}, "the apex falls in a blink"),
        ({"blink_frames": [3, 4, 5], "apex_index": 20, "onset_index": 10}, None),  # a blink elsewhere
    ],
)
def test_each_check_names_what_failed(change, reason):
    q = assess(prepared(**change), crop=128)
    assert q["ok"] is (reason is None)
    assert (reason is None and q["reasons"] == []) or (
        len(q["reasons"]) == 1 and q["reasons"][0].startswith(reason)
    )


def test_a_shot_cut_and_a_blink_at_the_apex_are_measured_on_real_frames():
    """prepare_clip on rendered frames: a cut to another picture, and lids closing at the apex."""
    from dataclasses import replace

    import cv2

    from fsr_cli.preprocess import prepare_clip
    from fsr_cli.synth.render import cached_identity, draw_spec, render_clip

    identity = cached_identity(0, 320, False)
    rng = np.random.default_rng(1)
    spec = draw_spec(
        rng, emotion="surprise", fps=200.0, first=0, face_width=identity.face_width, margin=(4, 4)
    )
    blink = render_clip(identity, replace(spec, units=(("45", 1.0),), peak_px=0.15 * 0.38 * 320))
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in blink.frames]
    apex = blink.index(spec.apex)
    out = prepare_clip(frames, apex=apex, fps=200.0)
    assert apex in out["blink_frames"] and 0 not in out["blink_frames"] and out["shot_cuts"] == []
    assert "the apex falls in a blink" in " ".join(assess(out | {"onset_index": 0}, crop=128)["reasons"])
    clean = render_clip(identity, spec)
    cut = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clean.frames]
    half = len(cut) // 2
    cut[half:] = [255 - f for f in cut[half:]]  # another picture from here on
    out = prepare_clip(cut, apex=half - 2, fps=200.0)
    assert out["shot_cuts"] == [half] and out["blink_frames"] == []


def test_lab_clips_pass_and_are_labelled(world, fsr):
    r = fsr("predict", *world.videos, "--run", world.run, "--json")
    assert r.returncode == 0, r.stderr
    for clip in json.loads(r.stdout)["clips"]:
        assert clip["quality"]["ok"] and clip["label"] is not None and "forced" not in clip


@pytest.mark.skipif(not REAL.is_file(), reason="../shared/data/real-video is not here")
def test_the_in_the_wild_clip_gets_no_label_unless_forced(world, fsr, tmp_path):
    r = fsr("predict", REAL, "--run", world.run, "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["label"] is None and not doc["quality"]["ok"]
    assert doc["quality"]["iod_px"] < 40 and "too small" in doc["reason"]
    mixed = fsr("predict", REAL, world.videos[0], "--run", world.run, "--csv", tmp_path / "r.csv")
    assert mixed.returncode == 3
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows[1].split(",")[1] == "no label" and rows[2].split(",")[1] == "ok"
    forced = fsr("predict", REAL, "--run", world.run, "--force", "--json")
    assert forced.returncode == 0
    doc = json.loads(forced.stdout)
    assert doc["forced"] is True and doc["label"] is not None and not doc["quality"]["ok"]
