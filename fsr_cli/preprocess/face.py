"""Stage `face`: find the face and its 68 landmarks with dlib.

The HOG frontal detector (upsampled once, so faces down to ~40 px are found) runs first; the
CNN detector (mmod_human_face_detector.dat, slower but tolerant of pose and lighting) is the
fallback. Landmarks come from shape_predictor_68_face_landmarks.dat (iBUG 68-point scheme).
Both model files ship with face-recognition-models; each is loaded once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fsr_cli.errors import SampleError
from fsr_cli.resources import CNN_DETECTOR, LANDMARKS_68, face_model_path

STAGE = "face"
VERSION = 1

HOG_UPSAMPLE = 1
# Frames wider than this (4K footage; no dataset's frames are: SAMM's are 2040 px) are halved
# until they are not before the HOG detector runs: upsampled once, a 3840 px frame was a
# 7680 px image to scan (1.4 s), for faces hundreds of pixels wide. The landmarks stay at full size.
HOG_MAX_WIDTH = 2048
# The CNN costs ~2 s per 512x512 image on one core; larger frames are shrunk to this side first.
CNN_MAX_SIDE = 640

# iBUG 68-point indices.
LEFT_EYE = slice(36, 42)  # the subject's right eye, on the image's left
RIGHT_EYE = slice(42, 48)


@dataclass(frozen=True)
class Box:
    """A face rectangle in pixel coordinates (right/bottom exclusive, as dlib reports them)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.right, self.bottom]


@lru_cache(maxsize=1)
def hog_detector():
    import dlib

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=1)
def cnn_detector():
    import dlib

    return dlib.cnn_face_detection_model_v1(str(face_model_path(CNN_DETECTOR)))


@lru_cache(maxsize=1)
def shape_predictor():
    import dlib

    return dlib.shape_predictor(str(face_model_path(LANDMARKS_68)))


def load_models() -> None:
    """Load every dlib model now (worker initialisers call this so each process loads them once)."""
    hog_detector()
    cnn_detector()
    shape_predictor()


def largest(boxes: list[Box]) -> Box | None:
    return max(boxes, key=lambda b: b.width, default=None)


def _cnn_boxes(grey: np.ndarray) -> list[Box]:
    import cv2

    scale = min(1.0, CNN_MAX_SIDE / max(grey.shape))
    small = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = cnn_detector()(small, 0)
    return [
        Box(*(round(v / scale) for v in (d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom())))
        for d in found
    ]


def detect_face(grey: np.ndarray, *, name: str = "frame") -> tuple[Box, str]:
    """The largest face in a grey uint8 image and the detector that found it ('hog' or 'cnn').

    Raises:
        SampleError: 'no face found in NAME' when neither detector finds one.
    """
    boxes, detector = detect_faces(grey, name=name)
    return largest(boxes), detector


def detect_faces(grey: np.ndarray, *, name: str = "frame") -> tuple[list[Box], str]:
    """Every face the HOG detector finds (else the CNN detector) and which one found them.

    Raises:
        SampleError: 'no face found in NAME' when neither detector finds one.
    """
    import cv2

    small, scale = grey, 1
    while small.shape[1] > HOG_MAX_WIDTH:
        small, scale = cv2.resize(small, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), scale * 2
    found = hog_detector()(small, HOG_UPSAMPLE)
    boxes = [Box(r.left() * scale, r.top() * scale, r.right() * scale, r.bottom() * scale) for r in found]
    if boxes:
        return boxes, "hog"
    if boxes := _cnn_boxes(grey):
        return boxes, "cnn"
    raise SampleError(f"no face found in {name}")


def landmarks(grey: np.ndarray, box: Box) -> np.ndarray:
    """The 68 landmarks (68, 2) float64 (x, y) of the face in `box`.

    The predictor is seeded by `box` only, so calling it with the onset box on later frames
    tracks the same face through small head movements.
    """
    import dlib

    shape = shape_predictor()(grey, dlib.rectangle(box.left, box.top, box.right, box.bottom))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)  # (68, 2)


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (x, y) of the eye on the image's left and on its right (mean of 6 lid points each)."""
    return points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
