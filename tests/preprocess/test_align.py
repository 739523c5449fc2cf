import cv2
import numpy as np
import pytest

from fsr_cli.preprocess import align, face


def _rotation_about(centre, deg):
    return cv2.getRotationMatrix2D(centre, deg, 1.0)


def test_fit_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (10, 2))
    a = np.radians(12.0)
    mat = 1.3 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = src @ mat.T + [5.0, -7.0]
    assert np.allclose(align.fit_similarity(src, dst), np.hstack([mat, [[5.0], [-7.0]]]), atol=1e-9)


@pytest.mark.parametrize("roll_deg", [0.0, 12.0])
def test_alignment_puts_the_eyes_level_at_the_template(astronaut, roll_deg):
    image = cv2.warpAffine(astronaut, _rotation_about((220.0, 121.0), roll_deg), astronaut.shape[::-1])
    box, _ = face.detect_face(image)
    points = face.landmarks(image, box)
    crop = align.warp(image, align.alignment_matrix(points, size=128), size=128)
    assert crop.shape == (128, 128)
    # Landmarks found again on the aligned crop sit at the template eye positions.
    found = face.landmarks(crop, face.detect_face(crop)[0])
    left, right = face.eye_centres(found)
    template = align.template_eyes(128)
    assert np.abs(np.stack([left, right]) - template).max() < 2.0
    assert abs(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0]))) < 2.0
    assert template[1, 0] - template[0, 0] == pytest.approx(align.TEMPLATE_IOD * 128)


def _residual_shift(a: np.ndarray, b: np.ndarray) -> float:
    """Translation between two aligned crops: median TV-L1 flow over the middle of the face."""
    from fsr_cli.preprocess.flow import tvl1

    uv = tvl1(a, b)[40:110, 30:98]  # eyes, nose, mouth; below the raised brows
    return float(np.hypot(*np.median(uv.reshape(-1, 2), axis=0)))


def test_drift_removal_cancels_a_known_rigid_shift(make_brow_clip, astronaut_landmarks):
    box, points = astronaut_landmarks
    frames = make_brow_clip(n=30, apex=12, drift=(3.0, -2.0))
    kwargs = dict(box=box, onset_points=points, onset_index=0, size=128, fps=200.0)
    fixed = align.align_clip(frames, remove_drift=True, **kwargs)
    raw = align.align_clip(frames, remove_drift=False, **kwargs)
    # The estimated drift at the last frame is the true one, within landmark accuracy.
    assert np.abs(fixed.drift[-1, :, 2] - [3.0, -2.0]).max() < 0.4
    assert fixed.drift_px == pytest.approx(np.hypot(3.0, 2.0), abs=0.4)
    scale = 128 * align.TEMPLATE_IOD / np.linalg.norm(np.subtract(*face.eye_centres(points)))
    assert _residual_shift(raw.frames[0], raw.frames[-1]) == pytest.approx(np.hypot(3, 2) * scale, abs=0.5)
    assert _residual_shift(fixed.frames[0], fixed.frames[-1]) < 0.35


def test_a_still_clip_is_left_uncompensated(make_brow_clip, astronaut_landmarks):
    box, points = astronaut_landmarks
    frames = make_brow_clip(n=20, apex=8)
    out = align.align_clip(frames, box=box, onset_points=points, onset_index=0, size=128, fps=200.0)
    assert out.drift_px < align.DRIFT_MIN_PX
    assert np.array_equal(out.drift, np.repeat(np.eye(2, 3)[None], 20, axis=0))


def test_savgol_matches_scipy():
    from scipy.signal import savgol_filter

    x = np.random.default_rng(1).normal(size=(31, 2))
    assert np.allclose(align.savgol(x, window=11, order=2), savgol_filter(x, 11, 2, axis=0, mode="interp"))
    assert np.allclose(
        align.savgol(x[:6], window=11, order=2), savgol_filter(x[:6], 5, 2, axis=0, mode="interp")
    )
