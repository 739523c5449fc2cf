"""Reading clips: a video file (OpenCV) or a folder of numbered frames, streamed frame by frame.

A folder's images are decoded straight to grey, exactly as `fsr preprocess` decodes a dataset's
frames, so a dataset clip given to `fsr predict` yields the very arrays training read. Videos
come as BGR frames (what the codec gives) and are converted to grey by the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli.data.frames import size_mismatch
from fsr_cli.errors import UsageError

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}


@dataclass
class Clip:
    """A clip on disk, decoded anew on each pass (`stream()`): frames are never all in memory.

    A folder's frames are its image files, in natural order; a video's are counted only as they
    are decoded.
    """

    path: Path
    fps: float | None  # None where the source does not say (a folder of frames)
    files: list[Path] | None = None  # a folder's frame files; None for a video
    interlaced: bool = False  # a video whose frames weave two fields: each is given as one field

    @property
    def is_video(self) -> bool:
        return self.files is None

    @property
    def names(self) -> list[str] | None:
        """A folder's frame file names; None for a video."""
        return None if self.files is None else [f.name for f in self.files]

    def stream_timed(self, times: list | None) -> Iterator[np.ndarray]:
        """stream(), appending each frame's presentation time in seconds to `times` (a video's
        timestamps, which a variable-frame-rate video needs; None for a folder's frames)."""
        if not self.is_video:
            for f in _folder_frames(self.files):
                if times is not None:
                    times.append(None)
                yield f
            return
        frames = _video_frames(self.path, times)
        yield from (one_field(f) for f in frames) if self.interlaced else frames

    def declared_frames(self) -> int | None:
        """The frame count a video's container states (a corrupt tail decodes fewer); None if unstated."""
        import cv2

        if not self.is_video:
            return len(self.files)
        cap = cv2.VideoCapture(str(self.path))
        try:
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        finally:
            cap.release()
        return n if n > 0 else None

    def stream(self) -> Iterator[np.ndarray]:
        """One decoding pass: uint8 frames in time order, grey (H, W) from a folder, BGR from a video.

        Raises:
            UsageError: an unreadable frame, or a frame of another size than the first.
        """
        return self.stream_timed(None)

    @property
    def frames(self) -> list[np.ndarray]:
        """Every frame, decoded into memory (small clips and tests; the pipeline streams)."""
        return list(self.stream())


MIN_SIDE = 32  # a frame smaller than this a side cannot hold a face dlib finds (nor its 68 points)


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _folder_frames(files: list[Path]) -> Iterator[np.ndarray]:
    import cv2

    from fsr_cli.native import quiet_fd2

    first = None
    for f in files:
        with quiet_fd2():  # libjpeg's 'Corrupt JPEG data' lines for frames it still decodes
            img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)  # as preprocess decodes dataset frames
        if img is None:
            raise UsageError(f"{f}: unreadable image" + (" (an empty file)" if f.stat().st_size == 0 else ""))
        if first is None:
            first = img.shape
        elif why := size_mismatch(f, img.shape, files[0], first):
            raise UsageError(why)
        yield img


def _video_frames(path: Path, times: list | None = None) -> Iterator[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise UsageError(f"{path}: OpenCV cannot open this video")
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # a phone's rotation tag: frames upright
        while True:
            ok, img = cap.read()
            if not ok:
                return
            if times is not None:
                times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
            yield img
    finally:
        cap.release()


VFR_SPREAD = 1.5  # frame intervals varying by more than this factor: a variable frame rate
SHORT_TAIL = 0.98  # fewer frames decoded than this share of the stated count: a corrupt or cut tail


def stream_notes(clip, n: int, times: list) -> dict:
    """What the decoding showed: frames decoded against those stated, a variable frame rate."""
    notes: dict = {"decoded_frames": n}
    if clip.interlaced:
        notes["interlaced"] = True  # read one field per frame (one_field)
    stated = clip.declared_frames() if clip.is_video else None
    if stated:
        notes["stated_frames"] = stated
        if n < SHORT_TAIL * stated - 1:
            notes["truncated"] = True  # spotted on what decoded; reported, never hidden
    t = np.array([x for x in times if x is not None], float)
    if len(t) > 2:
        gaps = np.diff(t)
        gaps = gaps[gaps > 0]
        if len(gaps) and np.percentile(gaps, 95) > VFR_SPREAD * np.percentile(gaps, 5):
            notes["variable_frame_rate"] = True
    return notes


def frame_clock(times: list, rate: float) -> np.ndarray:
    """Each frame's time in seconds from the first: the video's timestamps where they rise
    throughout (variable frame rates), else index / fps."""
    t = np.array([x if x is not None else np.nan for x in times], float)
    if len(t) > 1 and np.all(np.isfinite(t)) and np.all(np.diff(t) > 0):
        return t - t[0]
    return np.arange(max(len(times), 1)) / rate


COMB_RATIO = 1.5  # rows deviating from their neighbours this much more than from the next-but-one
COMB_FRAMES = 30  # frames looked at to tell an interlaced video


def comb_ratio(frame: np.ndarray) -> float:
    """How much more each row differs from its neighbours than from rows two away: ~0.5-1 for
    progressive footage, well above 1 where two fields of a moving scene are woven together."""
    g = (frame if frame.ndim == 2 else frame[..., 1])[:, ::4].astype(np.float32)
    near = np.abs(g[2:-2] - 0.5 * (g[1:-3] + g[3:-1])).mean()
    far = np.abs(g[2:-2] - 0.5 * (g[:-4] + g[4:])).mean()
    return float(near / max(far, 1e-3))


def one_field(frame: np.ndarray) -> np.ndarray:
    """An interlaced frame as its even field, stretched back to the frame's height (line doubling
    by interpolation): the two fields were taken at different instants."""
    import cv2

    h, w = frame.shape[:2]
    return cv2.resize(frame[0::2], (w, h), interpolation=cv2.INTER_LINEAR)


def read_clip(path: Path) -> Clip:
    """Open a video file or a folder of frames (its first frame is decoded to check it).

    Raises:
        UsageError: missing path, unknown kind of file, unreadable video or image, no frames.
    """
    import cv2

    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_dir():
        files = sorted(
            (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: _natural_key(p.name),
        )
        if not files:
            raise UsageError(f"{path}: no image frames ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        clip = Clip(path, None, files)
    else:
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            kinds = ", ".join(sorted(VIDEO_SUFFIXES))
            raise UsageError(f"{path}: not a video ({kinds}) or a folder of frames")
        cap = cv2.VideoCapture(str(path))
        try:
            if not cap.isOpened():
                raise UsageError(f"{path}: OpenCV cannot open this video")
            fps = cap.get(cv2.CAP_PROP_FPS) or None
        finally:
            cap.release()
        clip = Clip(path, float(fps) if fps else None)
        head = [f for _, f in zip(range(COMB_FRAMES), _video_frames(path), strict=False)]
        clip.interlaced = bool(head) and max(comb_ratio(f) for f in head) > COMB_RATIO
    first = next(iter(clip.stream()), None)
    if first is None:
        raise UsageError(f"{path}: no frame could be decoded")
    if min(first.shape[:2]) < MIN_SIDE:
        h, w = first.shape[:2]
        raise UsageError(f"{path}: frames are {w}x{h} pixels, too small to hold a face (at least {MIN_SIDE})")
    return clip
