"""Local facial motion over a short lag, per block of the aligned crop: what spotting reads.

For each frame i, the optical flow (OpenCV's DIS, on the 128-px aligned crops) from frame i - L to
frame i. From it:
- the global motion is removed: an affine motion fitted (least squares) over the face, which takes
  away what the head did in those L frames and what alignment left (a similarity between two
  fixes of the landmarks is an affine motion), and leaves the local, non-rigid motion;
- the eyes are masked (a blink is the largest local motion a face makes, and is not an
  expression), as is everything outside the face's oval;
- the rest is averaged in BLOCK x BLOCK blocks: (u, v) per block, a few dozen numbers per frame,
  so a video's motion record grows by a few hundred bytes a frame while only L + 1 crops are held;
- the eyes' own motion (the mean residual speed inside each eye's mask) is kept as a blink
  signal: a blink drags the skin around the eye beyond any mask that spares the brows, so
  signal.py sets the blocks near the eyes aside while the eyes move.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from fsr_cli.preprocess.align import TEMPLATE_EYE_Y, TEMPLATE_IOD, eye_masks, template_eyes
from fsr_cli.spot.track import CROP

BLOCK = 16
MIN_COVER = 0.3  # a block counts where the mask covers this much of it


def face_mask(size: int = CROP) -> np.ndarray:
    """(size, size) bool: the face's oval in the template crop, the eyes cut out."""
    iod = TEMPLATE_IOD * size
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    cy = TEMPLATE_EYE_Y * size + 0.65 * iod
    oval = ((xs - size / 2) / (1.15 * iod)) ** 2 + ((ys - cy) / (1.35 * iod)) ** 2 <= 1.0
    for eye in eye_masks(size):
        oval &= ~eye
    return oval


class LagMotion:
    """Feed aligned crops in order (None where the face was not held); add() returns the block
    motion (B, 2) from `lag` frames earlier and the eyes' residual speeds (2,), or None where
    either crop is missing."""

    def __init__(self, lag: int, size: int = CROP):
        import cv2

        self.lag = lag
        self.crops: deque = deque(maxlen=lag + 1)
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.mask = face_mask(size)
        ys, xs = np.nonzero(self.mask)
        design = np.stack([xs / size - 0.5, ys / size - 0.5, np.ones(len(xs))], 1)
        self.pix = (ys, xs)
        self.solve = np.linalg.pinv(design)  # (3, N): the affine fit of u and v
        self.design = design
        g = size // BLOCK
        cover = self.mask.reshape(g, BLOCK, g, BLOCK).sum((1, 3)) / BLOCK**2
        self.blocks = cover.ravel() >= MIN_COVER  # which of the g*g blocks are kept
        self.count = np.maximum(self.mask.reshape(g, BLOCK, g, BLOCK).sum((1, 3)).ravel(), 1)
        self.grid = g
        self.eyes = []
        for eye in eye_masks(size):
            ey, ex = np.nonzero(eye)
            self.eyes.append(((ey, ex), np.stack([ex / size - 0.5, ey / size - 0.5, np.ones(len(ex))], 1)))

    @property
    def n_blocks(self) -> int:
        return int(self.blocks.sum())

    def block_centres(self) -> np.ndarray:
        """(B, 2) x, y of the kept blocks' centres in the crop."""
        c = (np.arange(self.grid) + 0.5) * BLOCK
        xs, ys = np.meshgrid(c, c)
        return np.stack([xs.ravel(), ys.ravel()], 1)[self.blocks]

    def near_eye(self, iods: float) -> np.ndarray:
        """(B,) bool: the kept blocks whose centre is within `iods` inter-ocular distances of an eye."""
        c, eyes = self.block_centres(), template_eyes(self.grid * BLOCK)
        d = np.min([np.linalg.norm(c - e, axis=1) for e in eyes], axis=0)
        return d <= iods * TEMPLATE_IOD * self.grid * BLOCK

    def add(self, crop: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
        self.crops.append(crop)
        if crop is None or len(self.crops) <= self.lag or self.crops[0] is None:
            return None
        flow = self.dis.calc(self.crops[0], crop, None)  # (S, S, 2) from lag frames earlier
        ys, xs = self.pix
        uv = flow[ys, xs].astype(np.float64)  # (N, 2)
        coef = self.solve @ uv  # (3, 2) the affine motion
        residual = uv - self.design @ coef
        eyes = np.array([np.linalg.norm(flow[py, px] - d @ coef, axis=1).mean() for (py, px), d in self.eyes])
        out = np.zeros((self.grid * self.grid, 2))
        cells = (ys // BLOCK) * self.grid + xs // BLOCK
        for c in range(2):
            out[:, c] = np.bincount(cells, residual[:, c], minlength=len(out)) / self.count
        return out[self.blocks], eyes
