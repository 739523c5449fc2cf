"""What prepare_clip measures of the footage besides the sample, and the face regions it keeps.

- Shot cuts: consecutive frames whose thumbnails differ as only a cut makes them differ.
- Blink frames: aligned crops whose eyes changed as a closing lid changes them.
- Kept regions: the first pass keeps each frame's face region (around the crop's footprint on
  the onset frame) so the second pass need not decode again; `inside` says whether every warp
  reads only those regions, which makes the crops those of a whole-frame warp.
"""

from __future__ import annotations

import numpy as np

from fsr_cli.preprocess import align

# The region kept around the crop's footprint on the onset frame, as a share of its side: room
# for the head's drift (a drift beyond half the eye distance fails predict's quality gate).
KEEP_MARGIN = 0.5


CUT_GREY = 25.0  # mean grey change between two frames' thumbnails that only a shot cut makes
BLINK_GREY = 12.0  # mean grey change of the eyes from the onset that a closing lid makes ...
BLINK_RATIO = 4.0  # ... and this many times that of the skin around the eyes (brows, cheeks)


def thumb(grey: np.ndarray) -> np.ndarray:
    step = max(1, grey.shape[1] // 64)
    return grey[::step, ::step].astype(np.int16)


def blink_frames(crops: np.ndarray) -> list[int]:
    """Indices of aligned crops whose eyes differ from the first crop's as a closing lid makes
    them differ: much, and far more than the skin around them. An expression that moves the lids
    (AU4, AU6, AU7) moves the brows and cheeks around them as much; measured on synthesised clips
    (2026-12-07): a blink's eyes change 5.5x their surround, expressions' at most 2.8x."""
    size = crops.shape[-1]
    eyes = np.logical_or(*align.eye_masks(size))
    around = np.logical_or(*align.eye_masks(size, scale=2.0)) & ~eyes
    diff = np.abs(crops.astype(np.int16) - crops[0].astype(np.int16))
    d_eye, d_around = diff[:, eyes].mean(1), diff[:, around].mean(1)
    return [int(i) for i in np.nonzero((d_eye > BLINK_GREY) & (d_eye > BLINK_RATIO * d_around))[0]]


def footprint(mat: np.ndarray, size: int) -> np.ndarray:
    """(x0, y0, x1, y1) of the frame pixels a size x size warp by `mat` (frame -> crop) reads,
    bilinear neighbours included."""
    inv = np.linalg.inv(np.vstack([mat, [0, 0, 1]]))[:2]
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], float) @ inv.T
    return np.array([*np.floor(corners.min(0)) - 1, *np.ceil(corners.max(0)) + 2])


def keep_box(mat: np.ndarray, size: int, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The region of a frame kept for the second pass: the onset's footprint and a margin."""
    x0, y0, x1, y1 = footprint(mat, size)
    m = KEEP_MARGIN * max(x1 - x0, y1 - y0)
    h, w = shape
    return int(max(0, x0 - m)), int(max(0, y0 - m)), int(min(w, x1 + m)), int(min(h, y1 + m))


def inside(box: tuple[int, int, int, int], mats: list[np.ndarray], size: int, shape: tuple[int, int]) -> bool:
    """Whether every warp reads only the kept region, or beyond it only past the frame's own
    edge (where the full frame's replicated border is the region's)."""
    x0, y0, x1, y1 = box
    h, w = shape
    for mat in mats:
        a, b, c, d = footprint(mat, size)
        if (a < x0 and x0 > 0) or (b < y0 and y0 > 0) or (c > x1 and x1 < w) or (d > y1 and y1 < h):
            return False
    return True
