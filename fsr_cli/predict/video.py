"""Reading clips: a video file (OpenCV) or a folder of numbered frames, as a list of frames.

A folder's images are decoded straight to grey, exactly as `fsr preprocess` decodes a dataset's
frames, so a dataset clip given to `fsr predict` yields the very arrays training read. Videos
come as BGR frames (what the codec gives) and are converted to grey by the pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}


@dataclass
class Clip:
    path: Path
    frames: list[np.ndarray]  # uint8, in time order: grey (H, W) from a folder, BGR (H, W, 3) from a video
    fps: float | None  # None where the source does not say (a folder of frames)
    names: list[str]  # frame file names, or 'frame 0', 'frame 1', ... for a video


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def read_clip(path: Path, *, max_frames: int = 5000) -> Clip:
    """Read a video file or a folder of frames.

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
        from fsr_cli.native import quiet_fd2

        frames = []
        with quiet_fd2():  # libjpeg's 'Corrupt JPEG data' lines for frames it still decodes
            for f in files[:max_frames]:
                img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)  # as preprocess decodes dataset frames
                if img is None:
                    raise UsageError(
                        f"{f}: unreadable image" + (" (an empty file)" if f.stat().st_size == 0 else "")
                    )
                if frames and img.shape != frames[0].shape:
                    (h0, w0), (h, w) = frames[0].shape, img.shape
                    raise UsageError(
                        f"{f}: {w}x{h} pixels where the clip's first frame {files[0].name} is {w0}x{h0}; "
                        "every frame of a clip must have one size (as `fsr preprocess` requires)"
                    )
                frames.append(img)
        return Clip(path, frames, None, [f.name for f in files[:max_frames]])
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"{path}: not a video ({', '.join(sorted(VIDEO_SUFFIXES))}) or a folder of frames")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise UsageError(f"{path}: OpenCV cannot open this video")
        fps = cap.get(cv2.CAP_PROP_FPS) or None
        frames = []
        while len(frames) < max_frames:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
    finally:
        cap.release()
    if not frames:
        raise UsageError(f"{path}: no frame could be decoded")
    return Clip(path, frames, float(fps) if fps else None, [f"frame {i}" for i in range(len(frames))])
