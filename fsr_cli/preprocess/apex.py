"""Stage `apex`: the annotated apex where there is one, else the spotted one.

Spotting method (used for SMIC, CASME II's '/' rows and raw video):

1. Work on the aligned, drift-compensated frames (stage `align`), shrunk to SPOT_SIZE px and
   blurred slightly, so that what remains is non-rigid facial motion plus sensor noise.
2. For every frame t, Farneback flow from the onset to t (cheap at this size, and a displacement
   rather than an intensity difference, so the curve measures how far the face has moved from
   its onset state, whatever the texture). The median flow vector of the face is subtracted:
   what the drift compensation left of rigid motion is a near-uniform flow, while a
   micro-expression moves a minority of the face.
3. Flow magnitude is pooled over a GRID x GRID grid of blocks inside the face, with the eyes
   masked out (blinks are larger than any micro-expression and are not one). The curve value is
   the mean of the top quarter of blocks: a micro-expression moves a few facial regions only,
   and averaging over the whole face would bury it in noise.
4. The onset's own value (0: no noise against itself) is replaced by its neighbour's, so the
   curve starts at the noise floor; what residual drift remains adds a slow ramp, so the line
   through the curve's two ends (onset and offset are neutral by definition) is subtracted.
   A raw video that ends mid-expression would have its end flattened by this; there the apex
   is wherever the largest rise above the ramp is.
5. The curve is smoothed over time with a Gaussian of SMOOTH_SECONDS (2 frames at 200 fps)
   and its maximum after the onset (up to the offset) is the apex.

`benchmarks/apex_spotting.py` measures the error against synthesised ground truth.
"""

from __future__ import annotations

import numpy as np

from fsr_cli.preprocess.align import TEMPLATE_EYE_Y, TEMPLATE_IOD

STAGE = "apex"
VERSION = 1

SPOT_SIZE = 64
GRID = 8
TOP_FRACTION = 0.25
SMOOTH_SECONDS = 0.01
EYE_MASK_RADIUS = 0.1  # fraction of the crop side, around each template eye centre


def _region_mask(size: int) -> np.ndarray:
    """Blocks mask (GRID, GRID) bool: face blocks to pool, with the two eye blocks excluded."""
    centres = (np.arange(GRID) + 0.5) / GRID
    cy, cx = np.meshgrid(centres, centres, indexing="ij")
    keep = np.ones((GRID, GRID), bool)
    for ex in (0.5 - TEMPLATE_IOD / 2, 0.5 + TEMPLATE_IOD / 2):
        keep &= np.hypot(cx - ex, cy - TEMPLATE_EYE_Y) > EYE_MASK_RADIUS
    return keep


def _shrink(frame: np.ndarray) -> np.ndarray:
    import cv2

    small = cv2.resize(frame, (SPOT_SIZE, SPOT_SIZE), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (0, 0), 1.0)


def motion_curve(frames: np.ndarray, *, onset_index: int) -> np.ndarray:
    """Robust motion magnitude (T,) of each aligned frame (T, S, S) relative to the onset frame."""
    from fsr_cli.preprocess.flow import farneback

    small = [_shrink(f) for f in frames]
    keep = _region_mask(SPOT_SIZE)
    top = max(1, int(round(TOP_FRACTION * keep.sum())))
    b = SPOT_SIZE // GRID
    curve = np.zeros(len(frames))
    for t, frame in enumerate(small):
        if t == onset_index:
            continue
        uv = farneback(small[onset_index], frame)  # (s, s, 2)
        uv -= np.median(uv.reshape(-1, 2), axis=0)
        mag = np.hypot(uv[..., 0], uv[..., 1])
        blocks = mag.reshape(GRID, b, GRID, b).mean(axis=(1, 3))  # (GRID, GRID)
        curve[t] = np.sort(blocks[keep])[-top:].mean()
    return curve


def smooth_curve(curve: np.ndarray, *, fps: float) -> np.ndarray:
    """Gaussian smoothing (sigma SMOOTH_SECONDS) of a curve (T,), edges repeated."""
    sigma = SMOOTH_SECONDS * fps
    if sigma < 0.5:
        return curve
    r = int(np.ceil(4 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return np.convolve(np.pad(curve, r, mode="edge"), kernel / kernel.sum(), mode="valid")


def spot_apex(
    frames: np.ndarray, *, onset_index: int, offset_index: int | None = None, fps: float
) -> tuple[int, np.ndarray]:
    """Index of the spotted apex in `frames` (T, S, S) and the smoothed, detrended motion curve
    of onset..offset.

    Args:
        frames: aligned grey frames of the clip.
        onset_index: index of the onset (the reference, motion 0).
        offset_index: last index to consider (default: the last frame).
        fps: frame rate, which sets the smoothing width.
    """
    last = len(frames) - 1 if offset_index is None else offset_index
    if last <= onset_index:
        return onset_index, np.zeros(len(frames))
    raw = motion_curve(frames[onset_index : last + 1], onset_index=0)  # (n,)
    raw[0] = raw[1]
    raw -= np.linspace(raw[0], raw[-1], len(raw))
    curve = smooth_curve(raw, fps=fps)
    return onset_index + 1 + int(np.argmax(curve[1:])), curve
