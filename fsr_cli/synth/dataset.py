"""`write_dataset`: a whole synthetic dataset in a native layout, with its ground truth.

Besides the layout's own files every output holds fsr_ground_truth.csv and fsr_synth.json
(see `fsr_cli.synth.truth`). A non-empty folder without fsr_synth.json is refused; an earlier
synth output is emptied of what synth wrote (a cache folder inside it stays) and rewritten.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fsr_cli import __version__
from fsr_cli.errors import FsrError, UsageError
from fsr_cli.synth.face import Identity, make_identity
from fsr_cli.synth.layouts import (
    LAYOUTS,
    Layout,
    PlannedClip,
    clip_dir,
    frame_name,
    layout_code,
    plan_subject,
    subject_name,
    subject_rng,
    top_entries,
    video_path,
)
from fsr_cli.synth.render import frame_height, iter_frames
from fsr_cli.synth.sheets import CASME2_SHEET, SAMM_SHEET, write_casme2_sheet, write_samm_sheet
from fsr_cli.synth.truth import GROUND_TRUTH, MARKER, truth_rows, write_truth

SYNTH_FORMAT = "fsr-synth"
SYNTH_VERSION = 1
MAX_COUNT = 99  # subject and clip numbers keep the releases' two-digit names
SIZE_RANGE = (224, 1280)
JPEG_QUALITY = 95
LONG_SECONDS = (5.0, 900.0)
LONG_FPS = (25.0, 240.0)


def _check_args(
    layout: str,
    subjects: int,
    clips: int,
    seed: int,
    angle: float,
    size: int | None,
    seconds: float | None = None,
    fps: float | None = None,
) -> Layout:
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; choose one of: {', '.join(LAYOUTS)}")
    if layout != "long" and (seconds is not None or fps is not None):
        raise UsageError("--seconds and --fps are for --layout long; the other layouts keep their release's")
    if seconds is not None and not (LONG_SECONDS[0] <= seconds <= LONG_SECONDS[1]):
        raise UsageError(f"--seconds must be in {LONG_SECONDS[0]:g}..{LONG_SECONDS[1]:g}, got {seconds}")
    if fps is not None and not (LONG_FPS[0] <= fps <= LONG_FPS[1]):
        raise UsageError(f"--fps must be in {LONG_FPS[0]:g}..{LONG_FPS[1]:g}, got {fps}")
    if seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {seed}")
    for name, n in (("subjects", subjects), ("clips", clips)):
        if not 1 <= n <= MAX_COUNT:
            raise UsageError(f"--{name} must be between 1 and {MAX_COUNT}, got {n}")
    if not math.isfinite(angle):
        raise UsageError(f"--angle must be a finite number of degrees, got {angle}")
    if size is not None and not (SIZE_RANGE[0] <= size <= SIZE_RANGE[1] and size % 2 == 0):
        raise UsageError(
            f"--size must be an even frame width in {SIZE_RANGE[0]}..{SIZE_RANGE[1]}, got {size}"
        )
    return LAYOUTS[layout]


def _earlier_output(out: Path) -> dict | None:
    """The marker of an earlier synth output in `out`; None when `out` is new or empty.

    Raises:
        UsageError: `out` is a file or a non-empty folder that synth did not write.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a new or empty folder for the dataset")
    if not out.is_dir() or not any(out.iterdir()):
        return None
    try:
        return json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        raise UsageError(
            f"{out} is not empty and is not an earlier `fsr synth` output (no readable {MARKER}); "
            "give a new or empty folder"
        ) from None


def check_request(
    out: Path,
    *,
    layout: str,
    subjects: int = 4,
    clips: int = 6,
    seed: int = 0,
    angle: float = 0.0,
    size: int | None = None,
    seconds: float | None = None,
    fps: float | None = None,
) -> None:
    """Raise UsageError for what `write_dataset` would refuse, before any work (the CLI calls it first)."""
    _check_args(layout, subjects, clips, seed, angle, size, seconds, fps)
    _earlier_output(Path(out))


def _clear_folder(out: Path) -> None:
    """Empty an earlier synth output of what synth wrote (a cache folder in it stays)."""
    old = _earlier_output(out)
    if old is None:
        return
    ours = {GROUND_TRUTH, MARKER, *(e for name in LAYOUTS for e in top_entries(name))}
    for name in set(old.get("entries", [])) & ours:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _write_clip(root: Path, layout: Layout, c: PlannedClip, identity: Identity) -> None:
    import cv2

    if layout.name == "video":
        path = video_path(root, c)
        path.parent.mkdir(parents=True, exist_ok=True)
        h, w = identity.image.shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), layout.fps, (w, h))
        if not writer.isOpened():
            raise FsrError(f"OpenCV cannot write mp4v video {path}; check the opencv build (`fsr checks`)")
        for _, frame in iter_frames(identity, c.spec):
            writer.write(np.ascontiguousarray(frame[..., ::-1]))  # RGB -> BGR
        writer.release()
        return
    folder = clip_dir(root, layout.name, c)
    folder.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if layout.name != "smic" else []
    for n, frame in iter_frames(identity, c.spec):
        img = frame[..., 0] if layout.grey else np.ascontiguousarray(frame[..., ::-1])
        if not cv2.imwrite(str(folder / frame_name(layout.name, c, n)), img, params):
            raise FsrError(f"cannot write {folder / frame_name(layout.name, c, n)}; check free space")


def _write_sheet(out: Path, layout: Layout, planned: list[PlannedClip], *, seed: int) -> str | None:
    """The layout's coding spreadsheet, if it has one; returns the clip whose apex is '/'."""
    if layout.name == "casme2":
        row = int(np.random.default_rng([seed, layout_code(layout.name), 99]).integers(len(planned)))
        write_casme2_sheet(out / CASME2_SHEET, planned, slash_row=row)
        return f"{planned[row].subject}/{planned[row].clip}"
    if layout.name == "samm":
        write_samm_sheet(out / SAMM_SHEET, planned)
    return None


def _identity_record(subject: str, identity: Identity) -> dict:
    return {
        "subject": subject,
        "box": list(identity.box),
        "face_width": round(identity.face_width, 2),
        "roll_deg": round(identity.roll_deg, 2),
        "landmarks": np.round(identity.landmarks, 1).tolist(),  # (68, 2) on the neutral face
    }


def _marker(
    layout: Layout, *, seed, subjects, clips, angle, width, planned, identities, slash, complete
) -> dict:
    return {
        "format": SYNTH_FORMAT,
        "version": SYNTH_VERSION,
        "fsr_version": __version__,
        "complete": complete,
        "layout": layout.name,
        "params": {"subjects": subjects, "clips": clips, "seed": seed, "angle_deg": angle, "size": width},
        "frame_size": [width, frame_height(width)],
        "fps": layout.fps,
        "n_clips": len(planned),
        "n_subjects": subjects,
        "entries": [*top_entries(layout.name), GROUND_TRUTH],
        "slash_apex": slash,
        "identities": identities,
        "clips": [
            {
                "subject": c.subject,
                "clip": c.clip,
                "first": c.spec.first,
                "last": c.spec.last,
                "aus": "+".join(u for u, _ in c.spec.units),
                "peak_px": round(c.spec.peak_px, 4),
            }
            for c in planned
        ],
    }


def write_dataset(
    out: Path,
    *,
    layout: str,
    subjects: int = 4,
    clips: int = 6,
    seed: int = 0,
    angle: float = 0.0,
    size: int | None = None,
    seconds: float | None = None,
    fps: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a synthetic micro-expression dataset in a native layout.

    Args:
        out: dataset root; new, empty, or an earlier synth output (replaced).
        layout: casme2 | samm | smic | video.
        subjects, clips: number of subjects and of clips per subject.
        seed: same seed -> the same ground truth and identical frames.
        angle: rotates every local motion direction by this many degrees (0 = vertical).
        size: frame width in pixels (height 3/4 of it); default per layout (320, 320, 256, 640).
        seconds, fps: long layout only: each video's length (default 60 s) and frame rate (30).
        progress: called as progress(done, total) after each identity and each clip (long: each
            second of video).

    Returns:
        The dataset root (= out).

    Raises:
        UsageError: unknown layout, counts out of range, or `out` a non-empty foreign folder.
    """
    lay = _check_args(layout, subjects, clips, seed, angle, size, seconds, fps)
    out = Path(out)
    _clear_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    width = size or lay.width
    if lay.name == "long":
        from fsr_cli.synth.long_dataset import write_long

        return write_long(out, subjects=subjects, videos=clips, seed=seed, width=width,
                          seconds=seconds or 60.0, fps=fps or lay.fps, progress=progress)  # fmt: skip
    common = {"seed": seed, "subjects": subjects, "clips": clips, "angle": angle, "width": width}
    (out / MARKER).write_text(
        json.dumps(_marker(lay, planned=[], identities=[], slash=None, complete=False, **common), indent=2)
    )
    total, done, planned, identities = subjects * (clips + 1), 0, [], []
    for s in range(subjects):
        identity = make_identity(
            subject_rng(seed, lay.name, s), width=width, height=frame_height(width), grey=lay.grey
        )
        identities.append(_identity_record(subject_name(lay.name, s), identity))
        done += 1
        if progress:
            progress(done, total)
        for c in plan_subject(lay, s, identity, clips=clips, seed=seed, angle_deg=angle):
            _write_clip(out, lay, c, identity)
            planned.append(c)
            done += 1
            if progress:
                progress(done, total)
    slash = _write_sheet(out, lay, planned, seed=seed)
    write_truth(out / GROUND_TRUTH, truth_rows(lay.name, planned))
    doc = _marker(lay, planned=planned, identities=identities, slash=slash, complete=True, **common)
    (out / MARKER).write_text(json.dumps(doc, indent=2) + "\n")
    return out
