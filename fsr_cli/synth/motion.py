"""AU-like displacement fields and the micro-expression classes they define.

A class is WHERE the face moves and in WHICH DIRECTION: each action unit is a few smooth
Gaussian displacement bumps anchored on the 68 dlib landmarks, with directions in the face's
own frame (x along the eye line, y towards the chin). Positive = lip corners up and out (AU12,
with AU6); surprise = brows up (AU1+2); the negative emotions all lower the inner brows (AU4)
and add their own second unit (AU9 nose wrinkler, AU15 lip corner depressor, ...). So the
dominant motion axis is vertical in the face; `angle_deg` rotates the whole expression field by
that angle about the face centre, directions and where the bumps sit alike (image coordinates,
x right, y down, the convention of SOA's theta), so the dominant axis lies at 90 + angle degrees
and the rows the bilateral pairs share (brows, mouth corners) turn with it. The face itself is
not rotated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsr_cli.errors import UsageError


@dataclass(frozen=True)
class Bump:
    """One Gaussian displacement bump of an action unit."""

    at: tuple[int, ...]  # landmark indices whose mean is the anchor
    direction: tuple[float, float]  # face frame: (along the eye line, towards the chin)
    weight: float = 1.0
    sigma: float = 0.18  # in inter-ocular distances
    below: float = 0.0  # anchor shifted towards the chin, in inter-ocular distances


# Landmarks 48 / 54 are the image-left / image-right mouth corners, 17-21 the image-left brow.
ACTION_UNITS: dict[str, tuple[Bump, ...]] = {
    "1": (Bump((20, 21), (0.0, -1.0)), Bump((22, 23), (0.0, -1.0))),
    "2": (Bump((17, 18), (0.0, -1.0)), Bump((25, 26), (0.0, -1.0))),
    "4": (Bump((20, 21), (0.35, 1.0)), Bump((22, 23), (-0.35, 1.0))),
    "6": (Bump((40, 41), (0.0, -1.0), 0.6, 0.22, 0.35), Bump((46, 47), (0.0, -1.0), 0.6, 0.22, 0.35)),
    "7": (Bump((40, 41), (0.0, -1.0), 0.7, 0.12), Bump((46, 47), (0.0, -1.0), 0.7, 0.12)),
    "9": (Bump((31,), (0.0, -1.0), 0.8, 0.15, -0.1), Bump((35,), (0.0, -1.0), 0.8, 0.15, -0.1)),
    "12": (Bump((48,), (-0.45, -1.0), 1.0, 0.2), Bump((54,), (0.45, -1.0), 1.0, 0.2)),
    "R14": (Bump((54,), (0.8, -0.4), 1.0, 0.2),),
    "15": (Bump((48,), (-0.2, 1.0), 1.0, 0.2), Bump((54,), (0.2, 1.0), 1.0, 0.2)),
    "17": (Bump((57, 8), (0.0, -1.0), 0.7, 0.25),),
    "20": (Bump((48,), (-1.0, 0.2), 1.0, 0.2), Bump((54,), (1.0, 0.2), 1.0, 0.2)),
    # distractors of long videos (synth/long.py): a blink closes the upper lids; speech drops the jaw
    "45": (Bump((37, 38), (0.0, 1.0), 1.0, 0.09), Bump((43, 44), (0.0, 1.0), 1.0, 0.09)),
    "26": (Bump((57, 8), (0.0, 1.0), 1.0, 0.35, 0.1), Bump((66,), (0.0, 1.0), 0.6, 0.2)),
}

# Canonical (lowercase) emotion -> action units with their relative strength.
EMOTION_AUS: dict[str, tuple[tuple[str, float], ...]] = {
    "happiness": (("6", 0.5), ("12", 1.0)),
    "positive": (("6", 0.5), ("12", 1.0)),
    "surprise": (("1", 1.0), ("2", 0.9)),
    "disgust": (("4", 1.0), ("9", 0.8)),
    "negative": (("4", 1.0), ("9", 0.6)),
    "repression": (("4", 0.5), ("15", 1.0), ("17", 0.4)),
    "anger": (("4", 1.0), ("7", 0.6)),
    "contempt": (("4", 0.8), ("R14", 0.7)),
    "fear": (("2", 0.6), ("4", 1.0), ("20", 0.6)),
    "sadness": (("4", 0.8), ("15", 1.0)),
}
# 'others' / 'other': one unit drawn at random, at a fraction of the usual strength.
OTHER_EMOTIONS = ("others", "other")
OTHER_UNITS = ("1", "4", "9", "12", "R14", "15", "17")
OTHER_STRENGTH = (0.35, 0.6)


def action_units(emotion: str, rng: np.random.Generator | None = None) -> tuple[tuple[str, float], ...]:
    """The units and strengths of a canonical emotion ('others' draws one unit from `rng`)."""
    if emotion in OTHER_EMOTIONS:
        rng = rng if rng is not None else np.random.default_rng(0)
        unit = OTHER_UNITS[int(rng.integers(len(OTHER_UNITS)))]
        return ((unit, float(rng.uniform(*OTHER_STRENGTH))),)
    if emotion not in EMOTION_AUS:
        choices = ", ".join([*EMOTION_AUS, *OTHER_EMOTIONS])
        raise UsageError(f"no synthetic motion for emotion {emotion!r}; choose one of: {choices}")
    return EMOTION_AUS[emotion]


def au_code(units: tuple[tuple[str, float], ...]) -> str:
    """FACS-style code of the units, as the spreadsheets write it ('6+12', '4+R14')."""
    return "+".join(u for u, _ in units)


def _face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vectors along the eye line and towards the chin, and the inter-ocular distance."""
    left, right = landmarks[36:42].mean(0), landmarks[42:48].mean(0)
    iod = float(np.linalg.norm(right - left))
    ex = (right - left) / iod
    ey = np.array([-ex[1], ex[0]])  # ex rotated +90 degrees in image coordinates: towards the chin
    return ex, ey, iod


def _rotation(angle_deg: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def unit_field(
    landmarks: np.ndarray,
    units: tuple[tuple[str, float], ...],
    *,
    width: int,
    height: int,
    angle_deg: float = 0.0,
) -> np.ndarray:
    """Displacement field of the units, scaled so its largest magnitude is 1.

    Args:
        landmarks: (68, 2) landmarks of the neutral face.
        units: (action unit, strength) pairs, as `action_units` returns them.
        width, height: frame size.
        angle_deg: the field (directions and bump positions) is rotated by this angle about the
            centre of the landmarks (image coordinates, x right, y down).

    Returns:
        (H, W, 2) float32 field (dx, dy): a pixel's content moves by field * peak pixels.
    """
    ex, ey, iod = _face_frame(landmarks)
    rot = _rotation(angle_deg)
    middle = landmarks.mean(0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    field = np.zeros((height, width, 2), np.float32)
    for unit, strength in units:
        for b in ACTION_UNITS[unit]:
            centre = middle + rot @ (landmarks[list(b.at)].mean(0) + b.below * iod * ey - middle)
            d = rot @ (b.direction[0] * ex + b.direction[1] * ey)
            d = d / np.linalg.norm(d)
            g = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * (b.sigma * iod) ** 2))
            field += (strength * b.weight * g)[..., None] * d.astype(np.float32)
    return field / max(float(np.linalg.norm(field, axis=-1).max()), 1e-9)


def temporal_profile(numbers: np.ndarray, *, onset: int, apex: int, offset: int) -> np.ndarray:
    """Expression intensity per frame number: 0 to onset, sin^2 rise to 1 at apex, fall to 0 at offset."""
    n = np.asarray(numbers, dtype=np.float64)
    rise = np.sin(0.5 * np.pi * np.clip((n - onset) / max(apex - onset, 1), 0, 1)) ** 2
    # sin of the remaining fraction rather than cos, so the offset is exactly 0 (cos(pi/2) is not)
    fall = np.sin(0.5 * np.pi * (1 - np.clip((n - apex) / max(offset - apex, 1), 0, 1))) ** 2
    return np.where(n <= apex, rise, fall)


def dominant_axis_deg(u: np.ndarray, v: np.ndarray) -> float:
    """Undirected dominant motion axis of a flow or displacement field, in [0, 180) degrees.

    Image coordinates (x right, y down): 90 is vertical. The principal axis of the second-moment
    tensor, so opposite motions (brows up, mouth corners down) add up instead of cancelling.
    """
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    theta = 0.5 * np.degrees(np.arctan2(2 * (u * v).sum(), (u * u - v * v).sum()))
    return float(theta % 180.0)
