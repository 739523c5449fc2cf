"""Rendered clips: reproducible, peaking at the apex, moving in the direction --angle asks for."""

import cv2
import numpy as np
import pytest

from fsr_cli.synth import dominant_axis_deg, make_clip, read_ground_truth
from fsr_cli.synth.face import detect_faces


def _grey(frame):
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _roll(pts):
    d = pts[42:48].mean(0) - pts[36:42].mean(0)
    return np.degrees(np.arctan2(d[1], d[0]))


def _tvl1(a, b):
    return cv2.optflow.DualTVL1OpticalFlow_create().calc(a, b, None)  # (H, W, 2)


def test_same_arguments_same_frames_and_truth():
    a = make_clip(emotion="disgust", seed=4, angle_deg=10.0)
    b = make_clip(emotion="disgust", seed=4, angle_deg=10.0)
    assert a.spec == b.spec
    assert np.array_equal(a.frames, b.frames)
    c = make_clip(emotion="disgust", seed=5, angle_deg=10.0)
    assert not np.array_equal(a.frames[0], c.frames[0])


def test_clip_shape_timing_and_peak():
    clip = make_clip(emotion="happiness", seed=1, margin=(3, 3))
    s = clip.spec
    assert clip.frames.shape == (len(clip.numbers), 240, 320, 3) and clip.frames.dtype == np.uint8
    assert s.first + 3 == s.onset < s.apex < s.offset == s.last - 3
    assert 0.03 <= (s.apex - s.onset) / s.fps <= 0.065 and (s.offset - s.onset) / s.fps < 0.25
    peak = np.linalg.norm(clip.field, axis=-1).max()
    face = np.linalg.norm(clip.landmarks[16] - clip.landmarks[0])
    assert peak == pytest.approx(s.peak_px)
    assert 1.0 <= peak * 128 / face <= 2.0  # 1-2 px at a 128-px face
    assert clip.profile[clip.index(s.apex)] == 1.0 and clip.profile[clip.index(s.onset)] == 0.0


def test_difference_to_onset_peaks_at_the_apex():
    clip = make_clip(emotion="surprise", seed=2, margin=(4, 4), drift=False)
    s = clip.spec
    moving = np.linalg.norm(clip.field, axis=-1) > 0.1 * s.peak_px
    ref = clip.frames[clip.index(s.onset)].astype(np.float32)
    mad = np.array([np.abs(f.astype(np.float32) - ref)[moving].mean() for f in clip.frames])
    assert int(np.argmax(mad)) == clip.index(s.apex)
    rise = mad[clip.index(s.onset) + 1 : clip.index(s.apex) + 1]
    fall = mad[clip.index(s.apex) : clip.index(s.offset) + 1]
    assert (np.diff(rise) > 0).all() and (np.diff(fall) < 0).all()
    assert mad[clip.index(s.offset)] < 0.3 * mad.max()


@pytest.mark.parametrize("emotion", ["surprise", "happiness"])
def test_angle_rotates_the_tvl1_flow(emotion):
    axes = {}
    for angle in (0.0, 45.0):
        clip = make_clip(emotion=emotion, seed=3, angle_deg=angle)
        s = clip.spec
        x0, y0 = clip.landmarks.min(0).astype(int) - 10
        x1, y1 = clip.landmarks.max(0).astype(int) + 10
        a, b = (_grey(clip.frames[clip.index(n)])[y0:y1, x0:x1] for n in (s.onset, s.apex))
        flow = _tvl1(a, b)
        flow -= np.median(flow.reshape(-1, 2), axis=0)  # head drift
        mask = np.linalg.norm(clip.field[y0:y1, x0:x1], axis=-1) > 0.3 * s.peak_px
        axes[angle] = dominant_axis_deg(flow[mask, 0], flow[mask, 1])
        expected = 90.0 + _roll(clip.landmarks) + angle
        assert (axes[angle] - expected + 90) % 180 - 90 == pytest.approx(0, abs=10), (angle, axes[angle])
    assert (axes[45.0] - axes[0.0]) % 180 == pytest.approx(45, abs=10)


def test_flow_magnitude_on_disk_peaks_near_the_apex(synth_root, frame_file):
    root = synth_root("casme2")
    for row in read_ground_truth(root):
        if row.label3 is None:  # 'others' moves weakly by design
            continue
        frames = [
            cv2.imread(str(frame_file(root, "casme2", row, n)), 0) for n in range(row.onset, row.offset + 1)
        ]
        left, top, right, bottom = detect_faces(frames[0], upsample=0)[0]
        crop = [f[top:bottom, left:right] for f in frames]
        mags = []
        for f in crop:
            flow = cv2.calcOpticalFlowFarneback(crop[0], f, None, 0.5, 3, 9, 3, 5, 1.1, 0)
            flow -= np.median(flow.reshape(-1, 2), axis=0)  # head drift
            mags.append(np.linalg.norm(flow, axis=-1).mean())
        apex = row.apex - row.onset
        assert abs(int(np.argmax(mags)) - apex) <= 2, (row.clip, np.round(mags, 2))
        assert mags[apex] > 3 * mags[1] and mags[apex] > 1.3 * mags[-1], (row.clip, np.round(mags, 2))


def test_classes_are_learnable_from_tvl1_flow(synth_root, frame_file):
    """LOSO logistic regression on 8x8 onset->apex TV-L1 flow separates the composite classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

    root = synth_root("casme2")
    x, y, groups = [], [], []
    for row in read_ground_truth(root):
        if row.label3 is None:
            continue
        onset, apex = (cv2.imread(str(frame_file(root, "casme2", row, n)), 0) for n in (row.onset, row.apex))
        left, top, right, bottom = detect_faces(onset, upsample=0)[0]
        a, b = (
            cv2.resize(f[top:bottom, left:right], (64, 64), interpolation=cv2.INTER_AREA)
            for f in (onset, apex)
        )
        x.append(cv2.resize(_tvl1(a, b), (8, 8), interpolation=cv2.INTER_AREA).ravel())  # (128,)
        y.append(row.label3)
        groups.append(row.subject)
    pred = cross_val_predict(
        LogisticRegression(max_iter=2000), np.array(x), y, groups=groups, cv=LeaveOneGroupOut()
    )
    assert set(y) == {"negative", "positive", "surprise"}
    assert (pred == np.array(y)).mean() >= 0.85
