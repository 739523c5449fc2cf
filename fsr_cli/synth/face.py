"""Subject identities made from one real face photo (skimage's astronaut).

An identity is the photo's face re-rendered by a geometric change (scale, aspect, a small roll,
an optional mirror, a smooth face-shape warp) and a photometric one (gain, contrast, colour
cast, gamma), then checked with dlib: HOG must find exactly one face at upsample 0 and 1 and the
68-point predictor must place its landmarks. The landmarks of that neutral image are kept; the
micro-expression fields are laid out on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from fsr_cli.errors import FsrError

# The photo's real face; HOG also fires weakly on the suit lower down, so pick the box near here.
SOURCE_FACE_CENTER = (220.0, 121.0)
# Jaw width (landmarks 0-16) as a fraction of the frame width, before a subject's own scale.
FACE_FRACTION = 0.40
MAX_TRIES = 40


@dataclass(frozen=True)
class Identity:
    """One synthetic subject's neutral face.

    Attributes:
        image: (H, W, 3) uint8 RGB neutral frame (three equal channels when grey).
        landmarks: (68, 2) float32 dlib landmarks (x, y) of `image`.
        box: dlib face box (left, top, right, bottom) of `image`.
        grey: whether the three channels are equal (a greyscale camera).
        params: the geometric and photometric draw, for the record.
    """

    image: np.ndarray
    landmarks: np.ndarray
    box: tuple[int, int, int, int]
    grey: bool = False
    params: dict = field(default_factory=dict)

    @property
    def face_width(self) -> float:
        """Jaw width in pixels (landmark 0 to 16)."""
        return float(np.linalg.norm(self.landmarks[16] - self.landmarks[0]))

    @property
    def roll_deg(self) -> float:
        """Roll of the eye line in image coordinates (x right, y down)."""
        left, right = self.landmarks[36:42].mean(0), self.landmarks[42:48].mean(0)
        d = right - left
        return float(np.degrees(np.arctan2(d[1], d[0])))


@lru_cache(maxsize=1)
def _detector():
    import dlib

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=1)
def _predictor():
    import dlib

    from fsr_cli.resources import LANDMARKS_68, face_model_path

    return dlib.shape_predictor(str(face_model_path(LANDMARKS_68)))


def detect_faces(image: np.ndarray, *, upsample: int = 1) -> list[tuple[int, int, int, int]]:
    """dlib HOG face boxes (left, top, right, bottom) of an RGB or grey uint8 image."""
    return [(r.left(), r.top(), r.right(), r.bottom()) for r in _detector()(image, upsample)]


def landmarks68(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """(68, 2) float32 landmarks (x, y) of the face in `box`."""
    import dlib

    shape = _predictor()(image, dlib.rectangle(*box))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)  # (68, 2)


@lru_cache(maxsize=1)
def source_face() -> tuple[np.ndarray, np.ndarray]:
    """The astronaut photo (512, 512, 3) and its face's (68, 2) landmarks."""
    from skimage import data

    photo = data.astronaut()
    boxes = detect_faces(photo, upsample=1)
    centre = np.array(SOURCE_FACE_CENTER)
    box = min(boxes, key=lambda b: np.hypot((b[0] + b[2]) / 2 - centre[0], (b[1] + b[3]) / 2 - centre[1]))
    photo.setflags(write=False)
    return photo, landmarks68(photo, box)


def _draw_params(rng: np.random.Generator) -> dict:
    return {
        "scale": float(rng.uniform(0.9, 1.1)),
        "aspect": float(rng.uniform(0.92, 1.08)),
        "roll_deg": float(rng.uniform(-4.0, 4.0)),
        "mirror": bool(rng.random() < 0.5),
        "shift": [float(v) for v in rng.uniform(-0.03, 0.03, size=2)],
        "shape": [[float(v) for v in row] for row in rng.uniform(-1.0, 1.0, size=(4, 4))],
        "gamma": float(rng.uniform(0.8, 1.25)),
        "contrast": float(rng.uniform(0.8, 1.2)),
        "brightness": float(rng.uniform(-18.0, 18.0)),
        "cast": [float(v) for v in rng.uniform(0.87, 1.13, size=3)],
    }


def _geometry_maps(p: dict, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Backward maps (H, W) float32 from frame pixels to photo pixels for one draw."""
    photo_pts = source_face()[1]
    src_centre = photo_pts.mean(0)
    k = FACE_FRACTION * width * p["scale"] / np.linalg.norm(photo_pts[16] - photo_pts[0])
    sx, sy = k * p["aspect"] * (-1.0 if p["mirror"] else 1.0), k / p["aspect"]
    a = np.radians(p["roll_deg"])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    fwd = rot @ np.diag([sx, sy])  # photo offsets -> frame offsets
    dst_centre = np.array([width * (0.5 + p["shift"][0]), height * (0.56 + p["shift"][1])])

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    # Face-shape warp: four smooth bumps around the face, up to 4 % of the face width.
    fw = FACE_FRACTION * width * p["scale"]
    dx, dy = np.zeros_like(xs), np.zeros_like(ys)
    for cx, cy, ux, uy in p["shape"]:
        c = dst_centre + np.array([cx, cy]) * 0.35 * fw
        g = np.exp(-((xs - c[0]) ** 2 + (ys - c[1]) ** 2) / (2 * (0.3 * fw) ** 2))
        dx += 0.04 * fw * ux * g
        dy += 0.04 * fw * uy * g
    off = np.stack([xs - dx - dst_centre[0], ys - dy - dst_centre[1]], -1)  # (H, W, 2)
    src = off @ np.linalg.inv(fwd).T + src_centre  # (H, W, 2)
    return src[..., 0].astype(np.float32), src[..., 1].astype(np.float32)


def _photometric(img: np.ndarray, p: dict, *, grey: bool) -> np.ndarray:
    x = (img.astype(np.float32) / 255.0) ** p["gamma"] * 255.0
    x = (x - x.mean()) * p["contrast"] + x.mean() + p["brightness"]
    x = x * np.asarray(p["cast"], dtype=np.float32)
    if grey:
        x = np.repeat(x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)[:, None], 3, axis=-1)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def render_identity(params: dict, *, width: int, height: int, grey: bool = False) -> np.ndarray:
    """(H, W, 3) uint8 neutral frame of one identity draw (no detection)."""
    import cv2

    map_x, map_y = _geometry_maps(params, width, height)
    img = cv2.remap(source_face()[0], map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
    return _photometric(img, params, grey=grey)


def make_identity(rng: np.random.Generator, *, width: int, height: int, grey: bool = False) -> Identity:
    """Draw identities from `rng` until dlib finds exactly one face with landmarks on one.

    Raises:
        FsrError: when no draw passes (a frame too small for the HOG detector).
    """
    for _ in range(MAX_TRIES):
        params = _draw_params(rng)
        image = render_identity(params, width=width, height=height, grey=grey)
        boxes = detect_faces(image, upsample=0)
        if len(boxes) != 1 or len(detect_faces(image, upsample=1)) != 1:
            continue
        pts = landmarks68(image, boxes[0])
        if pts.min() < 0 or pts[:, 0].max() >= width or pts[:, 1].max() >= height:
            continue
        image.setflags(write=False)
        return Identity(image=image, landmarks=pts, box=boxes[0], grey=grey, params=params)
    raise FsrError(
        f"no identity with a detectable face in {MAX_TRIES} draws at {width}x{height}; use a larger --size"
    )
