"""Spotting micro-expressions in long videos (`fsr spot`), the MEGC way.

    spot_video(path) -> Spotted     intervals (onset, apex, offset, score), the score curve, quality
    megc.evaluate(...)              the MEGC metric: a spotted interval is a hit at IoU >= 0.5

The stages: track.py (the face followed and aligned, frame by frame), motion.py (local motion over
a lag of LAG_S, head motion removed, eyes masked, per block), signal.py (brief excursions scored
against the video's own noise, isolated peaks, their intervals). Memory does not grow with the
video beyond a few hundred bytes per frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fsr_cli.errors import SampleError
from fsr_cli.predict.quality import MIN_IOD_PX
from fsr_cli.predict.video import frame_clock, stream_notes
from fsr_cli.spot import signal
from fsr_cli.spot.motion import LagMotion
from fsr_cli.spot.track import FaceTracker

MIN_FACE_SHARE = 0.8  # a video whose face is held in fewer frames than this is not spotted
ANALYSIS_HZ = 50.0  # faster video is analysed at every k-th frame: a micro-expression spans 10+ of them
MAX_CROWD_SHARE = 0.5  # nor one where most detections found several faces (whose expression?)


class Unspottable(SampleError):
    """A video spotting cannot read, with the measurements that say why (`quality`)."""

    def __init__(self, message: str, quality: dict):
        super().__init__(message)
        self.quality = quality


@dataclass
class Spotted:
    path: str
    fps: float
    frames: int
    lag: int
    intervals: list[dict]  # onset, apex, offset (a video's 0-based frame indices, a folder's frame
    # file numbers, as fsr predict counts them), score, and the times in seconds from the first frame
    scores: np.ndarray  # (T,) the excursion score per frame
    threshold: float
    quality: dict
    seconds: dict = field(default_factory=dict)  # wall time: decode, track, motion, spot
    step: int = 1  # scores[i] is of decoded frame i * step
    numbers: list[int] | None = None  # a folder's frame file numbers (None: a video's indices)

    def as_dict(self) -> dict:
        return {
            "video": self.path,
            "fps": self.fps,
            "frames": self.frames,
            "lag_frames": self.lag,
            "analysed_every": self.step,
            "threshold": round(self.threshold, 3),
            "intervals": self.intervals,
            "quality": self.quality,
            "seconds": self.seconds,
        }


def spot_video(
    path: Path,
    *,
    fps: float | None = None,
    folder_fps: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> Spotted:
    """Spot the micro-expressions of one video (or folder of frames: fps, else folder_fps).

    Raises:
        SampleError: unreadable video, no frame rate.
        Unspottable: shorter than three lags, a face held in too few frames, too small, several
            faces; with the quality measured.
    """
    from fsr_cli.predict.video import read_clip

    try:
        clip = read_clip(Path(path))
    except Exception as exc:  # a path that exists (checked by the CLI) but cannot be read
        raise SampleError(str(exc)) from exc
    rate = fps or clip.fps or folder_fps
    if not rate or not np.isfinite(rate) or rate <= 0:
        raise SampleError(f"{path}: no frame rate; give --fps")
    step = max(1, int(rate // ANALYSIS_HZ))  # every step-th frame is analysed
    lag = signal.lag_frames(rate / step)
    tracker, motion = FaceTracker(rate / step), LagMotion(lag)
    rows, eyes, valid, faces, iods, crowd = [], [], [], [], [], []
    t_decode = t_track = t_motion = 0.0
    times: list = []
    stream = iter(clip.stream_timed(times))
    while True:
        t0 = time.perf_counter()
        frame = next(stream, None)
        t1 = time.perf_counter()
        if frame is None:
            break
        if (len(times) - 1) % step:
            t_decode += t1 - t0
            continue
        tracked = tracker.add(frame)
        t2 = time.perf_counter()
        a = motion.add(tracked.crop)
        t3 = time.perf_counter()
        t_decode, t_track, t_motion = t_decode + t1 - t0, t_track + t2 - t1, t_motion + t3 - t2
        rows.append(a[0] if a is not None else np.zeros((motion.n_blocks, 2)))
        eyes.append(a[1] if a is not None else np.zeros(2))
        valid.append(a is not None)
        faces.append(tracked.faces)
        if tracked.detected:
            crowd.append(tracked.faces > 1)
        iods.append(tracked.iod_px)
        if progress and len(rows) % max(1, round(rate / step)) == 0:
            progress(len(times))
    n = len(rows)
    held = float(np.mean([i > 0 for i in iods])) if n else 0.0
    quality_notes = stream_notes(clip, len(times), times)
    iod = float(np.median([i for i in iods if i > 0])) if held else 0.0
    several = float(np.mean(crowd)) if crowd else 0.0
    quality = {
        "frames_with_face": round(held, 3),
        "max_faces": int(max(faces, default=0)),
        "several_faces_share": round(several, 3),
        "iod_px": round(iod, 1),
        **quality_notes,
    }
    if n < 3 * lag:
        why = (
            f"{len(times)} frames, shorter than the {3 * lag * step} a micro-expression needs at {rate:g} fps"
        )
    elif held < MIN_FACE_SHARE:
        why = f"a face was held in {held:.0%} of the frames (at least {MIN_FACE_SHARE:.0%} needed)"
    elif iod < MIN_IOD_PX:  # the gate of fsr predict (predict/quality.py)
        why = f"the face is too small ({iod:.0f} px between the eyes, at least {MIN_IOD_PX:.0f})"
    elif several > MAX_CROWD_SHARE:
        why = f"several faces in {several:.0%} of the detections: crop the video to one person"
    else:
        why = None
    if why:
        raise Unspottable(f"{path}: {why}", quality)
    t4 = time.perf_counter()
    near_eye = motion.near_eye(signal.NEAR_EYE)
    scores, level, found = signal.spot(np.stack(rows), np.stack(eyes), np.array(valid), lag, near_eye)
    from fsr_cli.predict.clips import frame_numbers

    numbers = frame_numbers(clip)  # a folder's frames go by their file numbers, as the sheets count
    clock = frame_clock(times, rate)
    for r in found:
        r.update({k: r[k] * step for k in ("onset", "apex", "offset")})  # analysed -> decoded frames
        r.update({f"{k}_s": round(clock[r[k]], 3) for k in ("onset", "apex", "offset")})
        if numbers is not None:
            r.update({k: numbers[r[k]] for k in ("onset", "apex", "offset")})
    seconds = {
        "decode": round(t_decode, 2),
        "track": round(t_track, 2),
        "motion": round(t_motion, 2),
        "spot": round(time.perf_counter() - t4, 2),
    }
    return Spotted(
        str(path), float(rate), len(times), lag * step, found, scores, level, quality, seconds, step, numbers
    )
