import numpy as np
import pytest

from fsr_cli.preprocess import align, apex
from fsr_cli.preprocess.pipeline import prepare_clip


def test_spots_the_apex_of_a_brow_raise_despite_head_drift(make_brow_clip):
    frames = make_brow_clip(n=36, apex=13, drift=(1.5, 1.0), peak_px=1.5)
    out = prepare_clip(frames, fps=200.0)
    assert out["apex_source"] == "spotted"
    assert abs(out["apex_index"] - 13) <= 2


@pytest.mark.parametrize("layout", ["casme2", "smic"])
def test_spots_the_apex_of_synthesised_clips(layout):
    import cv2

    from fsr_cli.synth import LAYOUTS, make_clip

    spec = LAYOUTS[layout]
    clip = make_clip(emotion="surprise", seed=2, width=spec.width, fps=spec.fps, grey=spec.grey)
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in clip.frames]
    out = prepare_clip(frames, fps=spec.fps)
    assert abs(out["apex_index"] - clip.index(clip.spec.apex)) <= 3


def test_annotated_apex_is_kept(make_brow_clip):
    out = prepare_clip(make_brow_clip(n=20, apex=8), apex=5, fps=200.0)
    assert (out["apex_index"], out["apex_source"], out["curve"]) == (5, "annotated", None)


def test_motion_curve_is_zero_at_the_onset_and_peaks_near_the_apex(make_brow_clip, astronaut_landmarks):
    box, points = astronaut_landmarks
    frames = make_brow_clip(n=24, apex=10, noise=0.0)
    aligned = align.align_clip(frames, box=box, onset_points=points, onset_index=0, size=128, fps=200.0)
    curve = apex.motion_curve(aligned.frames, onset_index=0)
    assert curve[0] == 0.0
    assert abs(int(np.argmax(curve)) - 10) <= 2  # unsmoothed: the peak is a plateau a few frames wide
    assert curve[10] > 2 * curve[-1]  # back towards neutral at the end


def test_smooth_curve_matches_scipy_gaussian():
    from scipy.ndimage import gaussian_filter1d

    x = np.random.default_rng(0).normal(size=40)
    assert np.allclose(apex.smooth_curve(x, fps=200.0), gaussian_filter1d(x, 2.0, mode="nearest"))
