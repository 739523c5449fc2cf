"""Stage `align`: one canonical face crop per clip, with rigid head drift removed.

Method.

1. Canonical alignment. The onset frame's 68 landmarks give two eye centres (mean of the six
   lid points of each eye). The similarity transform (rotation, uniform scale, translation)
   that sends them to the template positions makes the eyes level, fixes the inter-ocular
   distance at TEMPLATE_IOD of the crop side and centres the face horizontally; the eye line
   sits at TEMPLATE_EYE_Y so that brows and chin both fit in the square crop.

2. Rigid drift. Subjects' heads drift by a pixel or two during a clip, which optical flow would
   report as motion everywhere. On every frame the shape predictor, seeded by the onset face box,
   relocates STABLE_POINTS: the inner eye corners (39, 42, held by the medial canthal tendons),
   the lower nose bridge and tip (28-30) and the subnasale (33). These move with the skull and
   hardly with the muscles micro-expressions use: brows, lids, outer eye corners, lips, the
   glabella (27, which AU4 pulls) and the nostril wings (31, 35, which AU9 raises) are left out.
   The predictor box follows the face (it is moved by the neighbour frame's estimate), because
   dlib underestimates a face's displacement inside a fixed box. The frame's drift D_t is the
   mean displacement of these points from the onset: a translation. A full similarity was
   tried first and dropped: from six points ~1 IOD apart, rotation and scale come out ~0.3 deg
   and ~1 % off on synthesised clips (0.5 px at the crop's edge), more than the roll a seated
   subject makes in half a second. dlib returns whole-pixel landmarks (~0.15 px noise in the
   mean), so the curves are smoothed with a Savitzky-Golay filter (quadratic, 100 ms), which
   keeps slow drift, also at the clip ends, then re-anchored to zero at the onset, the
   reference by definition. A clip whose estimated drift stays under DRIFT_MIN_PX is left
   uncompensated rather than given the estimate's noise as motion.

3. Compensation. Frame t is warped by A * D_t^-1 (A: the canonical transform of step 1), so
   each aligned frame shows the face as if the head had kept its onset pose: only non-rigid
   motion is left for the flow stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fsr_cli.preprocess.face import Box, eye_centres, landmarks

STAGE = "align"
VERSION = 1

TEMPLATE_IOD = 0.38  # inter-ocular distance / crop side
TEMPLATE_EYE_Y = 0.28  # eye line height / crop side
STABLE_POINTS = (28, 29, 30, 33, 39, 42)
SMOOTH_SECONDS = 0.1  # Savitzky-Golay window of the drift curves
SMOOTH_ORDER = 2
DRIFT_MIN_PX = 0.5


def template_eyes(size: int) -> np.ndarray:
    """Template eye centres (2, 2) (x, y) in a size x size crop: image-left eye first."""
    half = TEMPLATE_IOD * size / 2
    centre = size / 2
    y = TEMPLATE_EYE_Y * size
    return np.array([[centre - half, y], [centre + half, y]])


EYE_RX, EYE_RY = 0.36, 0.24  # eye mask half-axes, inter-ocular distances (lids and lashes)


def eye_masks(size: int, *, scale: float = 1.0) -> list[np.ndarray]:
    """(size, size) bool of each eye (lids and lashes) in the template crop; scale widens both axes."""
    iod = TEMPLATE_IOD * size
    rx, ry = scale * EYE_RX * iod, scale * EYE_RY * iod
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    return [((xs - ex) / rx) ** 2 + ((ys - ey) / ry) ** 2 <= 1.0 for ex, ey in template_eyes(size)]


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (2, 3) mapping src points (N, 2) onto dst (N, 2) (Umeyama 1991)."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s0, d0 = src - mu_s, dst - mu_d
    cov = d0.T @ s0 / len(src)  # (2, 2)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])  # no reflections
    rot = u @ fix @ vt
    scale = (sig * np.diag(fix)).sum() / (s0**2).sum(axis=1).mean()
    mat = scale * rot
    return np.hstack([mat, (mu_d - mat @ mu_s)[:, None]])


def alignment_matrix(points: np.ndarray, *, size: int) -> np.ndarray:
    """Similarity (2, 3) from a frame with 68 landmarks `points` to the canonical crop."""
    return fit_similarity(np.stack(eye_centres(points)), template_eyes(size))


def savgol(curves: np.ndarray, *, window: int, order: int) -> np.ndarray:
    """Savitzky-Golay smoothing along axis 0 of curves (T, K), polynomial fits at the ends.

    The same as scipy.signal.savgol_filter(mode='interp'), written out because importing
    scipy.signal costs a second per worker process.
    """
    n = len(curves)
    window = min(window, n if n % 2 else n - 1)
    if window <= order:
        return curves
    half = window // 2
    proj = np.linalg.pinv(np.vander(np.arange(window), order + 1))  # (order+1, window)
    out = np.empty_like(curves, dtype=np.float64)
    for i in range(n):
        a = min(max(i - half, 0), n - window)
        out[i] = np.vander([i - a], order + 1) @ (proj @ curves[a : a + window])
    return out


def _shifted(box: Box, shift: np.ndarray) -> Box:
    dx, dy = (int(v) for v in np.round(shift))
    return Box(box.left + dx, box.top + dy, box.right + dx, box.bottom + dy)


class DriftTracker:
    """Unsmoothed translation of the stable points of frames fed one at a time, moving away from
    the onset (streaming: no frame is kept).

    Each frame's predictor box is the onset box moved by the previous frame's estimate: the
    predictor underestimates a displacement of the face inside a fixed box.
    """

    def __init__(self, box: Box, onset_points: np.ndarray):
        self.box, self.src = box, onset_points[list(STABLE_POINTS)]
        self.prev = np.zeros(2)
        self.residual = 0.0  # the largest RMS of the stable points about their shared shift

    def add(self, frame: np.ndarray) -> np.ndarray:
        """The shift (2,) of `frame`'s stable points from the onset's."""
        found = landmarks(frame, _shifted(self.box, self.prev))[list(STABLE_POINTS)]
        moved = found - self.src
        self.prev = moved.mean(axis=0)
        # points that do not move together are not one rigid face: lost, turned or occluded
        self.residual = max(self.residual, float(np.sqrt(((moved - self.prev) ** 2).sum(1).mean())))
        return self.prev


def _raw_drift(frames: list[np.ndarray], box: Box, onset_points: np.ndarray, onset: int) -> np.ndarray:
    """Unsmoothed translation (T, 2) of the stable points, tracking outwards from the onset."""
    shifts = np.zeros((len(frames), 2))
    for order in (range(onset + 1, len(frames)), range(onset - 1, -1, -1)):
        tracker = DriftTracker(box, onset_points)
        for i in order:
            shifts[i] = tracker.add(frames[i])
    return shifts


def smooth_drift(shifts: np.ndarray, *, onset_index: int, fps: float) -> np.ndarray:
    """Raw shifts (T, 2) -> per-frame rigid drift (T, 2, 3), smoothed and zero at the onset."""
    window = max(5, int(round(SMOOTH_SECONDS * fps)) | 1)
    shifts = savgol(shifts, window=window, order=SMOOTH_ORDER)  # (T, 2)
    shifts -= shifts[onset_index]
    drift = np.repeat(np.eye(2, 3)[None], len(shifts), axis=0)  # (T, 2, 3)
    drift[:, :, 2] = shifts
    return drift


def compensation(drift: np.ndarray) -> tuple[np.ndarray, float]:
    """(the drift to remove, its largest displacement in px): none where it stays under DRIFT_MIN_PX."""
    drift_px = float(np.linalg.norm(drift[:, :, 2], axis=1).max())
    if drift_px < DRIFT_MIN_PX:
        drift = np.repeat(np.eye(2, 3)[None], len(drift), axis=0)
    return drift, drift_px


def frame_matrices(canon: np.ndarray, drift: np.ndarray) -> list[np.ndarray]:
    """Each frame's warp (2, 3): the canonical matrix after the frame's drift is undone."""
    return [(_h(canon) @ np.linalg.inv(_h(d)))[:2] for d in drift]


def clip_warps(
    onset_points: np.ndarray,
    shifts: np.ndarray | None,
    *,
    n: int,
    onset_index: int,
    size: int,
    fps: float,
) -> tuple[np.ndarray, np.ndarray, float, list[np.ndarray]]:
    """(canonical matrix, drift removed (T, 2, 3), drift_px, each frame's warp) of a clip of n frames.

    `shifts` are the raw stable-point shifts (T, 2) of DriftTracker, or None for no drift removal.
    """
    canon = alignment_matrix(onset_points, size=size)
    drift, drift_px = np.repeat(np.eye(2, 3)[None], n, axis=0), 0.0  # (T, 2, 3)
    if shifts is not None and n > 1:
        drift, drift_px = compensation(smooth_drift(shifts, onset_index=onset_index, fps=fps))
    return canon, drift, drift_px, frame_matrices(canon, drift)


def _h(mat: np.ndarray) -> np.ndarray:
    return np.vstack([mat, [0.0, 0.0, 1.0]])  # (3, 3)


@dataclass(frozen=True)
class Aligned:
    """Aligned grey frames (T, S, S) uint8, the canonical matrix (2, 3) and the drift (T, 2, 3).

    `drift_px` is the largest estimated displacement of the stable points' centroid, in source
    pixels (estimated even when it stays under DRIFT_MIN_PX and is not compensated).
    """

    frames: np.ndarray
    matrix: np.ndarray
    drift: np.ndarray
    drift_px: float


def warp(frame: np.ndarray, mat: np.ndarray, *, size: int) -> np.ndarray:
    import cv2

    return cv2.warpAffine(frame, mat, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def align_clip(
    frames: list[np.ndarray],
    *,
    box: Box,
    onset_points: np.ndarray,
    onset_index: int,
    size: int,
    fps: float,
    remove_drift: bool = True,
) -> Aligned:
    """Warp every frame into the canonical crop, compensating rigid drift relative to the onset."""
    shifts = _raw_drift(frames, box, onset_points, onset_index) if remove_drift else None
    canon, drift, drift_px, mats = clip_warps(
        onset_points, shifts, n=len(frames), onset_index=onset_index, size=size, fps=fps
    )
    out = np.stack([warp(f, m, size=size) for f, m in zip(frames, mats, strict=True)])  # (T, S, S)
    return Aligned(out, canon, drift, drift_px)
