"""Clip rendering: a neutral identity, an AU displacement field, a timing, head drift and noise.

Each frame is one backward warp (cv2.remap) of the neutral identity: the expression field,
scaled by the onset -> apex -> offset profile, is composed with a slight rigid head drift, then
sensor noise is added. The field at the apex is returned as the ground-truth motion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fsr_cli.data.labels import composite_label
from fsr_cli.synth.face import Identity, make_identity
from fsr_cli.synth.motion import action_units, temporal_profile, unit_field

# Onset -> apex and apex -> offset durations (seconds): micro-expressions, well under 0.5 s.
RISE_S = (0.03, 0.06)
FALL_S = (0.06, 0.13)
# Peak displacement at a 128-px face (the aligned crop later stages use), in pixels.
PEAK_PX_128 = (1.0, 2.0)
# Rigid head drift reached at the clip's last frame, at a 128-px face.
DRIFT_PX_128 = (0.1, 0.5)
DRIFT_DEG = 0.2
NOISE_SIGMA = 1.5  # grey levels


def frame_height(width: int) -> int:
    """Height of a 4:3 frame of `width` pixels, rounded to an even number (video codecs need it)."""
    return 2 * round(width * 3 / 8)


@dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one clip besides its identity (frame numbers are absolute)."""

    emotion: str  # canonical lowercase
    units: tuple[tuple[str, float], ...]  # (action unit, strength)
    first: int
    onset: int
    apex: int
    offset: int
    last: int
    fps: float
    peak_px: float  # largest displacement at the apex, frame pixels
    angle_deg: float
    drift_px: tuple[float, float]  # head translation at the last frame
    drift_deg: float  # head roll at the last frame
    noise_seed: int

    @property
    def numbers(self) -> np.ndarray:
        return np.arange(self.first, self.last + 1)

    @property
    def label3(self) -> str | None:
        return composite_label(self.emotion)


@dataclass(frozen=True)
class Clip:
    """A rendered clip and its ground truth.

    Attributes:
        frames: (T, H, W, 3) uint8 RGB.
        numbers: (T,) absolute frame numbers.
        field: (H, W, 2) float32 displacement (dx, dy) at the apex, pixels (x right, y down).
        profile: (T,) expression intensity per frame (1 at the apex).
        landmarks: (68, 2) landmarks of the neutral identity.
    """

    frames: np.ndarray
    numbers: np.ndarray
    spec: ClipSpec
    field: np.ndarray
    profile: np.ndarray
    landmarks: np.ndarray

    def index(self, number: int) -> int:
        """Position in `frames` of an absolute frame number."""
        return int(number - self.numbers[0])


def draw_spec(
    rng: np.random.Generator,
    *,
    emotion: str,
    fps: float,
    first: int,
    face_width: float,
    angle_deg: float = 0.0,
    margin: tuple[int, int] = (0, 0),
) -> ClipSpec:
    """Draw timing, strength and drift of one clip starting at frame number `first`.

    `margin` is the (low, high) range of neutral frames before onset and after offset.
    """
    units = action_units(emotion, rng)
    pre, post = (int(rng.integers(margin[0], margin[1] + 1)) for _ in range(2))
    rise = max(2, round(fps * rng.uniform(*RISE_S)))
    fall = max(3, round(fps * rng.uniform(*FALL_S)))
    onset = first + pre
    scale = face_width / 128.0
    drift = rng.uniform(*DRIFT_PX_128) * scale
    heading = rng.uniform(0, 2 * np.pi)
    return ClipSpec(
        emotion=emotion,
        units=units,
        first=first,
        onset=onset,
        apex=onset + rise,
        offset=onset + rise + fall,
        last=onset + rise + fall + post,
        fps=float(fps),
        peak_px=float(rng.uniform(*PEAK_PX_128) * scale * max(s for _, s in units)),
        angle_deg=float(angle_deg),
        drift_px=(float(drift * np.cos(heading)), float(drift * np.sin(heading))),
        drift_deg=float(rng.uniform(-DRIFT_DEG, DRIFT_DEG)),
        noise_seed=int(rng.integers(2**31)),
    )


def _source_coords(identity: Identity, spec: ClipSpec, t: float, grid: tuple[np.ndarray, np.ndarray]):
    """Backward map of the rigid head drift at clip fraction t: frame pixel -> identity pixel."""
    xs, ys = grid
    cx, cy = (float(v) for v in identity.landmarks.mean(0))
    a = -np.radians(spec.drift_deg * t)
    c, s = float(np.cos(a)), float(np.sin(a))
    # Python floats keep the maps float32 (numpy scalars would promote them to float64).
    tx, ty = cx + spec.drift_px[0] * t, cy + spec.drift_px[1] * t
    return c * (xs - tx) - s * (ys - ty) + cx, s * (xs - tx) + c * (ys - ty) + cy


def _support(field: np.ndarray, margin: int) -> tuple[slice, slice]:
    """Rows and columns around where the field moves anything (the rest of the frame only drifts)."""
    ys, xs = np.nonzero(np.linalg.norm(field, axis=-1) > 1e-3)
    h, w = field.shape[:2]
    return (
        slice(max(ys.min() - margin, 0), min(ys.max() + margin + 1, h)),
        slice(max(xs.min() - margin, 0), min(xs.max() + margin + 1, w)),
    )


def iter_frames(
    identity: Identity, spec: ClipSpec, *, drift: bool = True, noise: bool = True
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame number, (H, W, 3) uint8 RGB frame) of a clip, one warp per frame."""
    import cv2

    h, w = identity.image.shape[:2]
    field = unit_field(identity.landmarks, spec.units, width=w, height=h, angle_deg=spec.angle_deg)
    # Widened by the most any pixel drifts: the translation plus the roll at the frame's diagonal.
    reach = np.hypot(*spec.drift_px) + np.radians(abs(spec.drift_deg)) * np.hypot(w, h)
    roi = _support(field, margin=4 + int(np.ceil(reach)))
    grid = tuple(g.astype(np.float32) for g in np.meshgrid(np.arange(w), np.arange(h)))
    profile = temporal_profile(spec.numbers, onset=spec.onset, apex=spec.apex, offset=spec.offset)
    span = max(spec.last - spec.first, 1)
    grain = np.empty((h, w, 1 if identity.grey else 3), np.float32)
    for i, (n, a) in enumerate(zip(spec.numbers, profile, strict=True)):
        sx, sy = _source_coords(identity, spec, float(n - spec.first) / span, grid) if drift else grid
        mx, my = sx.copy(), sy.copy()
        if a > 0:
            # The expression moves with the head: sample the field where this pixel sits on the face.
            d = cv2.remap(field, sx[roi], sy[roi], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            k = np.float32(a * spec.peak_px)
            mx[roi] -= k * d[..., 0]
            my[roi] -= k * d[..., 1]
        frame = cv2.remap(identity.image, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
        if noise:
            # OpenCV's generator is several times faster than numpy's here; seeded per frame.
            cv2.setRNGSeed((spec.noise_seed + i) % 2**31)
            cv2.randn(grain.reshape(h, -1), 0.0, NOISE_SIGMA)  # 2-D: a scalar sigma covers every channel
            frame = cv2.add(frame, np.repeat(grain, 3, axis=-1) if identity.grey else grain, dtype=cv2.CV_8U)
        yield int(n), frame


def render_clip(identity: Identity, spec: ClipSpec, *, drift: bool = True, noise: bool = True) -> Clip:
    """Render a whole clip in memory with its ground truth (see `Clip`)."""
    h, w = identity.image.shape[:2]
    frames = np.stack([f for _, f in iter_frames(identity, spec, drift=drift, noise=noise)])  # (T, H, W, 3)
    field = unit_field(identity.landmarks, spec.units, width=w, height=h, angle_deg=spec.angle_deg)
    return Clip(
        frames=frames,
        numbers=spec.numbers,
        spec=spec,
        field=field * np.float32(spec.peak_px),
        profile=temporal_profile(spec.numbers, onset=spec.onset, apex=spec.apex, offset=spec.offset),
        landmarks=identity.landmarks,
    )


@lru_cache(maxsize=8)
def cached_identity(seed: int, width: int, grey: bool) -> Identity:
    """The identity of `seed` at one frame width (cached: dlib detection is the slow part)."""
    rng = np.random.default_rng([seed, width, int(grey)])
    return make_identity(rng, width=width, height=frame_height(width), grey=grey)


def make_clip(
    *,
    emotion: str = "happiness",
    angle_deg: float = 0.0,
    seed: int = 0,
    width: int = 320,
    fps: float = 200.0,
    grey: bool = False,
    margin: tuple[int, int] = (0, 0),
    drift: bool = True,
    noise: bool = True,
) -> Clip:
    """One synthetic clip with known class, timing and motion, for tests and demos.

    Frame numbers start at 0. Same arguments -> identical frames.

    Example:
        >>> clip = make_clip(emotion="surprise", angle_deg=45.0, seed=3)
        >>> clip.frames.shape, clip.spec.apex
    """
    identity = cached_identity(seed, width, grey)
    rng = np.random.default_rng([seed, width, int(grey), 1])
    spec = draw_spec(
        rng,
        emotion=emotion,
        fps=fps,
        first=0,
        face_width=identity.face_width,
        angle_deg=angle_deg,
        margin=margin,
    )
    return render_clip(identity, spec, drift=drift, noise=noise)
