"""A face followed through a long video, frame by frame, as an aligned grey crop (streamed: no frame
is kept), with what is needed to judge whether it can be trusted.

Cost per frame, in the order of a video's life:
- the HOG detector runs on the frame reduced to at most DETECT_WIDTH pixels wide (a 4K frame costs
  what a 480-px one does), when no face is held and every REDETECT_S seconds (to notice a second
  face or a lost one);
- the 68 landmarks are re-found at most LANDMARK_HZ times a second, on the full frame, in a box
  that follows them; between two fixes the last alignment holds (the spotting stage removes the
  small global motion that leaves);
- the crop is warped from the face's region only, halved (cv2.pyrDown) while the face is more
  than twice the crop's size, so a 4K face is not aliased into the crop.

Alignment: the similarity that sends the stable points (the inner eye corners, nose bridge and
tip, subnasale: align.STABLE_POINTS) of the frame onto those of the face when it was found,
followed by that face's canonical crop (eyes level at the template's place). Eye-lid points are
left out on purpose: a blink moves them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsr_cli.preprocess.align import STABLE_POINTS, TEMPLATE_IOD, alignment_matrix, fit_similarity
from fsr_cli.preprocess.face import Box, eye_centres, hog_detector, landmarks

CROP = 128
DETECT_WIDTH = 480
REDETECT_S = 2.0
LANDMARK_HZ = 50.0
LOST_SPREAD = 0.1  # stable points further than this (in IODs, RMS) from one similarity: face lost


@dataclass
class TrackedFrame:
    index: int
    crop: np.ndarray | None  # (CROP, CROP) uint8 grey; None where no face is held
    faces: int  # faces the last detection found
    iod_px: float  # the face's inter-ocular distance in the frame (0 without a face)
    detected: bool  # the detector ran on this frame


def _grey(frame: np.ndarray) -> np.ndarray:
    import cv2

    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


class FaceTracker:
    """Feed frames in order with add(); each returns a TrackedFrame."""

    def __init__(self, fps: float):
        self.fps = fps
        self.redetect = max(1, round(REDETECT_S * fps))
        self.every = max(1, round(fps / LANDMARK_HZ))
        self.ref = None  # the stable points when the face was found
        self.canon = None  # the canonical crop's matrix of that face
        self.box = None
        self.points = None
        self.mat = None  # the current frame -> crop matrix
        self.faces = 0
        self.iod = 0.0
        self.n = 0

    def _detect(self, grey: np.ndarray) -> list[Box]:
        import cv2

        scale = min(1.0, DETECT_WIDTH / grey.shape[1])
        small = (
            grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        )
        found = hog_detector()(small, 1)
        return [Box(*(round(v / scale) for v in (r.left(), r.top(), r.right(), r.bottom()))) for r in found]

    def _found(self, grey: np.ndarray, box: Box) -> None:
        pts = landmarks(grey, box)
        self.box, self.points = box, pts
        self.ref = pts[list(STABLE_POINTS)]
        self.canon = np.vstack([alignment_matrix(pts, size=CROP), [0, 0, 1]])
        left, right = eye_centres(pts)
        self.iod = float(np.linalg.norm(right - left))
        self.mat = self.canon[:2]

    def _follow(self, grey: np.ndarray) -> bool:
        """Re-find the landmarks in a box moved with them; False where they no longer form the face."""
        prev = self.points
        pts = landmarks(grey, self.box)
        stable = pts[list(STABLE_POINTS)]
        sim = fit_similarity(stable, self.ref)
        back = stable @ sim[:, :2].T + sim[:, 2]
        if np.sqrt(((back - self.ref) ** 2).sum(1).mean()) > LOST_SPREAD * self.iod:
            return False
        shift = np.round(pts.mean(0) - prev.mean(0)).astype(int)
        b = self.box
        self.box = Box(b.left + shift[0], b.top + shift[1], b.right + shift[0], b.bottom + shift[1])
        self.points = pts
        self.mat = (self.canon @ np.vstack([sim, [0, 0, 1]]))[:2]
        return True

    def _crop(self, grey: np.ndarray) -> np.ndarray:
        import cv2

        mat = self.mat.copy()
        b, h, w = self.box, *grey.shape[:2]
        pad = b.width // 2
        x0, y0 = max(b.left - pad, 0), max(b.top - pad, 0)
        roi = grey[y0 : min(b.bottom + pad, h), x0 : min(b.right + pad, w)]
        mat[:, 2] += mat[:, :2] @ np.array([x0, y0], float)  # ROI coordinates
        scale = self.iod / (TEMPLATE_IOD * CROP)
        while scale > 2.0 and min(roi.shape) > 2 * CROP:
            roi = cv2.pyrDown(roi)
            mat[:, :2] *= 2.0
            scale /= 2.0
        return cv2.warpAffine(roi, mat, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def add(self, frame: np.ndarray) -> TrackedFrame:
        grey = _grey(frame)
        i, self.n = self.n, self.n + 1
        detected = self.box is None or i % self.redetect == 0
        if detected:
            boxes = self._detect(grey)
            self.faces = len(boxes)
            if not boxes:
                self.box = None
            elif self.box is None or self._far(boxes):
                self._found(grey, max(boxes, key=lambda b: b.width))
        elif i % self.every == 0 and not self._follow(grey):
            self.box = None  # lost: found again at the next frame
        crop = self._crop(grey) if self.box is not None else None
        return TrackedFrame(i, crop, self.faces, self.iod if self.box is not None else 0.0, detected)

    def _far(self, boxes: list[Box]) -> bool:
        """Whether the held face is none of the detected ones (the person left, another came)."""
        cx, cy = self.points[list(STABLE_POINTS)].mean(0)
        return not any(b.left <= cx <= b.right and b.top <= cy <= b.bottom for b in boxes)
