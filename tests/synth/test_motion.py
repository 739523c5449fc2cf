"""AU displacement fields: where, which direction, how rotated, and the onset-apex-offset profile."""

import numpy as np
import pytest

from fsr_cli.errors import UsageError
from fsr_cli.synth import dominant_axis_deg, temporal_profile, unit_field
from fsr_cli.synth.face import source_face
from fsr_cli.synth.motion import action_units, au_code

W, H = 512, 512


@pytest.fixture(scope="module")
def landmarks():
    return source_face()[1]


def _roll(pts):
    d = pts[42:48].mean(0) - pts[36:42].mean(0)
    return np.degrees(np.arctan2(d[1], d[0]))


def _mean_motion(field, pts, idx, radius=12):
    """Mean displacement (dx, dy) within `radius` px of the mean of landmarks `idx`."""
    c = pts[list(idx)].mean(0)
    ys, xs = np.mgrid[0:H, 0:W]
    return field[np.hypot(xs - c[0], ys - c[1]) < radius].mean(0)


def test_dominant_axis_of_known_fields():
    assert dominant_axis_deg(np.zeros(5), np.ones(5)) == pytest.approx(90.0)
    assert dominant_axis_deg(np.ones(5), np.zeros(5)) == pytest.approx(0.0)
    assert dominant_axis_deg(np.array([1.0, -1.0]), np.array([1.0, -1.0])) == pytest.approx(45.0)
    # Opposite motions along one axis add up instead of cancelling.
    assert dominant_axis_deg(np.array([0.0, 0.0]), np.array([1.0, -1.0])) == pytest.approx(90.0)


@pytest.mark.parametrize(
    "emotion,where,up",
    [
        ("happiness", (48,), True),  # lip corner rises
        ("happiness", (54,), True),
        ("surprise", (19,), True),  # brows rise
        ("surprise", (24,), True),
        ("disgust", (21,), False),  # inner brows lower
        ("anger", (22,), False),
        ("repression", (48,), False),  # lip corner depressed
    ],
)
def test_classes_move_the_right_place_in_the_right_direction(landmarks, emotion, where, up):
    field = unit_field(landmarks, action_units(emotion), width=W, height=H)
    dx, dy = _mean_motion(field, landmarks, where)
    assert abs(dy) > 0.5  # strong, and mostly vertical
    assert (dy < 0) == up


def test_happiness_lip_corners_move_outwards(landmarks):
    field = unit_field(landmarks, action_units("happiness"), width=W, height=H)
    assert _mean_motion(field, landmarks, (48,))[0] < -0.1
    assert _mean_motion(field, landmarks, (54,))[0] > 0.1


def test_motion_is_local(landmarks):
    field = unit_field(landmarks, action_units("surprise"), width=W, height=H)
    mag = np.linalg.norm(field, axis=-1)
    assert mag.max() == pytest.approx(1.0, abs=1e-5)
    assert _mean_motion(field, landmarks, (57,)).__abs__().max() < 0.02  # the mouth does not move
    assert mag[400:, :].max() < 1e-3  # nor the suit


@pytest.mark.parametrize(
    "emotion", ["happiness", "surprise", "disgust", "repression", "anger", "sadness", "negative"]
)
def test_axis_is_vertical_in_the_face_and_rotates_with_angle(landmarks, emotion):
    units = action_units(emotion)
    roll = _roll(landmarks)
    for angle in (0.0, 45.0, -30.0):
        f = unit_field(landmarks, units, width=W, height=H, angle_deg=angle)
        axis = dominant_axis_deg(f[..., 0], f[..., 1])
        assert (axis - (90.0 + roll + angle) + 90) % 180 - 90 == pytest.approx(0.0, abs=6.0), (angle, axis)


def _layout_axis(field: np.ndarray) -> float:
    """Principal axis (degrees, mod 180) of where the field moves, weighted by its magnitude."""
    mag = np.linalg.norm(field, axis=-1)
    ys, xs = np.mgrid[0 : field.shape[0], 0 : field.shape[1]]
    w = mag / mag.sum()
    dx, dy = xs - (w * xs).sum(), ys - (w * ys).sum()
    cxx, cyy, cxy = (w * dx * dx).sum(), (w * dy * dy).sum(), (w * dx * dy).sum()
    return float(0.5 * np.degrees(np.arctan2(2 * cxy, cxx - cyy)) % 180)


def test_angle_turns_where_the_face_moves_too(landmarks):
    # Surprise moves both brows: a layout along the eye line at angle 0, turned by the angle.
    roll = _roll(landmarks)
    for angle in (0.0, 45.0, 90.0):
        f = unit_field(landmarks, action_units("surprise"), width=W, height=H, angle_deg=angle)
        assert (_layout_axis(f) - (roll + angle) + 90) % 180 - 90 == pytest.approx(0.0, abs=4.0), angle
    # ... about the centre of the landmarks: the centre of the motion turns about it by the angle
    centres = {}
    for angle in (0.0, 90.0):
        mag = np.linalg.norm(
            unit_field(landmarks, action_units("surprise"), width=W, height=H, angle_deg=angle), axis=-1
        )
        ys, xs = np.mgrid[0:H, 0:W]
        centres[angle] = np.array([(mag * xs).sum(), (mag * ys).sum()]) / mag.sum() - landmarks.mean(0)
    turned = np.array([-centres[0.0][1], centres[0.0][0]])  # +90 degrees, y down
    np.testing.assert_allclose(centres[90.0], turned, atol=1.0)


def test_others_is_weak_and_drawn_from_the_seed():
    a = action_units("others", np.random.default_rng(1))
    assert len(a) == 1 and 0.3 < a[0][1] < 0.65
    assert a == action_units("others", np.random.default_rng(1))
    assert au_code(action_units("contempt")) == "4+R14"


def test_unknown_emotion_names_the_choices():
    with pytest.raises(UsageError, match=r"no synthetic motion for emotion 'joy'; choose one of: happiness"):
        action_units("joy")


def test_temporal_profile_rises_to_apex_and_returns():
    n = np.arange(40, 71)
    p = temporal_profile(n, onset=45, apex=52, offset=66)
    at = dict(zip(n.tolist(), p.tolist(), strict=True))
    assert at[40] == at[45] == 0.0 and at[52] == 1.0 and at[66] == 0.0 and at[70] == 0.0
    assert (np.diff(p[5:13]) > 0).all() and (np.diff(p[12:27]) < 0).all()
