"""From block motion over a lag to micro-expression intervals (pure functions, no video).

A[i] is the local motion from frame i - L to frame i, per block: E(i) - E(i - L), where E is
the face's expression displacement. Then

    D[i] = (A[i] - A[i + L]) / 2 = E(i) - (E(i - L) + E(i + L)) / 2
    R[i] =  A[i] + A[i + L]      = E(i + L) - E(i - L)

A micro-expression whose rise and fall each fit in L frames gives D = its displacement at the apex
and R = 0 (the face is back where it was L frames later): a brief excursion. Slow motion gives
D ~ 0 (its first differences cancel), and a change that stays (a macro-expression's onset, a
posture change) gives |R| = 2|D|. A block's evidence is max(0, |D| - |R|), in units of that
block's own noise (the median of |D| over the video), so a mouth that talks all along does not
out-vote a brow that moved once; a frame's score is the mean of its TOP_BLOCKS best blocks.

Blinks: the eyes are masked, but a blink drags the skin around them too; while an eye's own
motion is a blink (BLINK_Z robust deviations above its median, at least BLINK_PX) the blocks
within NEAR_EYE of an eye are set aside, L frames either side.

Peaks: local maxima of the score above PEAK_Z x the score's own spread over the video
(median + PEAK_Z x 1.4826 MAD), at least MIN_SCORE, and isolated: in the ring 2L..5L frames away
on either side, the same blocks' motion (|A| over its median) never reaches ISOLATION of the
peak's (speech repeats the same excursion in the same place; |D| would miss it, as a syllable
rate near 1/L cancels in D). The interval around a peak: see interval().
"""

from __future__ import annotations

import numpy as np

LAG_S = 0.2  # half a micro-expression's longest duration, 0.5 s (MEGC), rounded down
TOP_BLOCKS = 3
PEAK_Z = 8.0
MIN_SCORE = 3.0
ISOLATION = 0.25
EDGE = 0.2
NOISE_FLOOR = 0.01  # pixels: a block's noise is at least this (a perfectly still synthetic face)
BLINK_Z = 6.0
BLINK_PX = 0.3  # an eye's residual speed over the lag, crop pixels
NEAR_EYE = 0.75  # inter-ocular distances from an eye centre


def lag_frames(fps: float) -> int:
    return max(1, round(LAG_S * fps))


def excursions(A: np.ndarray, valid: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """D and R (T, B, 2) from A (T, B, 2); rows where A[i] or A[i + L] is missing are zero."""
    T = len(A)
    D, R = np.zeros_like(A), np.zeros_like(A)
    ok = valid[: T - lag] & valid[lag:]
    D[: T - lag][ok] = 0.5 * (A[: T - lag][ok] - A[lag:][ok])
    R[: T - lag][ok] = A[: T - lag][ok] + A[lag:][ok]
    return D, R


def activity(D: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|D| (T, B) and each block's noise (B,): the median of its |D| over the valid frames."""
    d = np.linalg.norm(D, axis=-1)
    noise = np.median(d[valid], axis=0) if valid.any() else np.ones(d.shape[1])
    return d, np.maximum(noise, NOISE_FLOOR)


def frame_scores(D: np.ndarray, R: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(T,) the mean of each frame's TOP_BLOCKS blocks' max(0, |D| - |R|) over the block's noise."""
    d, noise = activity(D, valid)
    z = np.clip(d - np.linalg.norm(R, axis=-1), 0, None) / noise
    k = min(TOP_BLOCKS, z.shape[1])
    return np.sort(z, axis=1)[:, -k:].mean(1) * valid


def blink_frames(eyes: np.ndarray, valid: np.ndarray, lag: int) -> np.ndarray:
    """(T,) bool: frames whose D involves a blink (an eye's motion far above its usual)."""
    e = eyes.max(1)
    s = e[valid] if valid.any() else e
    med = float(np.median(s))
    level = max(BLINK_PX, med + BLINK_Z * 1.4826 * float(np.median(np.abs(s - med))))
    hit = (e > level) & valid
    out = hit.copy()
    for k in range(1, lag + 1):  # D[i] reads A[i] and A[i + L]: a blink in A[j] touches D[j - L]..D[j]
        out[:-k] |= hit[k:]
        out[k:] |= hit[:-k]
    return out


def threshold(scores: np.ndarray, valid: np.ndarray) -> float:
    s = scores[valid] if valid.any() else scores
    med = float(np.median(s))
    return max(MIN_SCORE, med + PEAK_Z * 1.4826 * float(np.median(np.abs(s - med))))


def find_peaks(scores: np.ndarray, act: np.ndarray, lag: int, level: float) -> list[int]:
    """Isolated local maxima above level, strongest first; none closer than 2L to a stronger one.

    act: (T, B) each block's motion over its noise; the peak's blocks are those most active in
    the L frames from the apex on (A[apex..apex + L] holds its rise and fall)."""
    order = np.argsort(-scores, kind="stable")
    taken: list[int] = []
    k = min(TOP_BLOCKS, act.shape[1])
    for i in order:
        if scores[i] < level:
            break
        if any(abs(i - j) < 2 * lag for j in taken):
            continue
        top = np.argsort(act[i : i + lag + 1].max(0))[-k:]
        a = act[:, top].mean(1)
        lo, hi = max(0, i - 5 * lag), min(len(scores), i + 5 * lag + 1)
        ring = np.r_[a[lo : max(lo, i - 2 * lag)], a[min(hi, i + 2 * lag + 1) : hi]]
        if ring.size and ring.max() >= ISOLATION * a[i : i + lag + 1].max():
            continue
        taken.append(int(i))
    return taken


def interval(A: np.ndarray, apex: int, lag: int) -> tuple[int, int]:
    """(onset, offset) around the apex: where the expression, projected on its apex pattern, stays
    above EDGE of its apex value.

    The expression relative to the face before the onset is rebuilt from the lag motion:
    E(i) = A[i] + A[i - L] + ... back to a frame before apex - L (rise <= L: neutral there), so
    E(i) = A[i] on the rise and A[i] + A[i - L] on the fall. Searched to L before the apex and
    2L after it (a micro-expression lasts at most 0.5 s, 2.5 L)."""
    T = len(A)

    def expression(i: int) -> np.ndarray:
        out, j = np.zeros_like(A[0]), i
        while j >= apex - lag and j >= 0:
            out, j = out + A[j], j - lag
        return out.ravel()

    pattern = expression(apex)
    norm = float(pattern @ pattern) or 1.0
    onset = apex
    while onset > max(0, apex - lag) and expression(onset - 1) @ pattern / norm > EDGE:
        onset -= 1
    offset = apex
    while offset < min(T - 1, apex + 2 * lag) and expression(offset + 1) @ pattern / norm > EDGE:
        offset += 1
    return onset, offset


def spot(
    A: np.ndarray, eyes: np.ndarray, valid: np.ndarray, lag: int, near_eye: np.ndarray
) -> tuple[np.ndarray, float, list[dict]]:
    """Scores (T,), the threshold, and intervals [{onset, apex, offset, score}] in time order.

    A: (T, B, 2) block motion over the lag; eyes: (T, 2) the eyes' motion; valid: (T,) whether
    frame i had both crops; near_eye: (B,) bool, the blocks set aside during blinks.
    """
    D, R = excursions(A, valid, lag)
    ok = valid.copy()
    ok[len(ok) - lag :] = False
    ok[: len(ok) - lag] &= valid[lag:]
    blink = blink_frames(eyes, valid, lag)
    D[np.ix_(blink, near_eye)] = 0.0
    R[np.ix_(blink, near_eye)] = 0.0
    scores = frame_scores(D, R, ok)
    level = threshold(scores, ok)
    A = A.copy()
    A[np.ix_(blink, near_eye)] = 0.0
    moved, noise = activity(A, valid)
    act = moved / noise
    found = []
    for apex in find_peaks(scores, act, lag, level):
        onset, offset = interval(A, apex, lag)
        found.append({"onset": onset, "apex": apex, "offset": offset, "score": round(float(scores[apex]), 3)})
    return scores, level, sorted(found, key=lambda r: r["apex"])
