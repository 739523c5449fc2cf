"""Frames on disk: list a clip folder's numbered frames and check an annotation against them.

Every dataset names frames with the frame number last in the stem: `img46.jpg` (CASME II),
`reg_img46.jpg` (CASME II cropped), `006_05562.jpg` (SAMM), `image059700.bmp` (SMIC),
`355.jpg` (CAS(ME)^3), `1.jpg` (MMEW). So one rule reads them all.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from fsr_cli.errors import SampleError

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
_TRAILING_NUMBER = re.compile(r"(\d+)$")

# Apex cells that mean "not annotated" (CASME II writes '/', some sheets leave '-' or -1).
NO_APEX = {"/", "-", "", "none", "nan", "n/a", "-1"}


def list_frames(folder: Path) -> dict[int, Path]:
    """Frame number -> file for the image files of `folder` (empty when it does not exist)."""
    frames: dict[int, Path] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return frames
    for entry in entries:
        stem, suffix = os.path.splitext(entry.name)
        match = _TRAILING_NUMBER.search(stem)
        if match and suffix.lower() in FRAME_SUFFIXES and entry.is_file():
            frames.setdefault(int(match.group(1)), Path(entry.path))
    return frames


def parse_frame(cell: Any, name: str) -> int:
    """A frame number from a spreadsheet cell: 46, 46.0 and '46' all read as 46."""
    if isinstance(cell, bool):
        raise SampleError(f"{name} is not a frame number: {cell!r}")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    text = str(cell).strip() if cell is not None else ""
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    if not text:
        raise SampleError(f"{name} is empty")
    raise SampleError(f"{name} is not a frame number: {cell!r}")


def parse_apex(cell: Any) -> int | None:
    """The annotated apex, or None where the sheet has none ('/'); later stages spot it."""
    if cell is None or str(cell).strip().lower() in NO_APEX:
        return None
    return parse_frame(cell, "apex")


def parse_subject(cell: Any, *, width: int, prefix: str = "") -> str:
    """Subject id zero-padded as the folders spell it: 1, 1.0, '1', '01', 'sub01' -> '01' (width 2)."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip() if cell is not None else ""
    if prefix and text.lower().startswith(prefix):
        text = text[len(prefix) :]
    if not text:
        raise SampleError("subject is empty")
    return text.zfill(width) if text.isdigit() else text


def text_cell(cell: Any) -> str:
    """A cell as trimmed text; whole floats lose their '.0' (an AU cell 12.0 -> '12')."""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return "" if cell is None else str(cell).strip()


def check_order(onset: int, apex: int | None, offset: int) -> None:
    """Raise SampleError unless onset <= apex <= offset (onset <= offset when apex is None)."""
    if onset > offset or (apex is not None and not onset <= apex <= offset):
        shown = "None" if apex is None else apex
        raise SampleError(
            f"frames out of order: onset {onset}, apex {shown}, offset {offset} "
            "(need onset <= apex <= offset)"
        )


def clip_frames(
    folder: Path, onset: int, offset: int, *, root: Path, listing: dict[int, Path] | None = None
) -> tuple[tuple[int, ...], tuple[Path, ...]]:
    """Frame numbers and files of onset..offset in `folder`, all of them present.

    Args:
        folder: the clip folder.
        onset, offset: the annotated range (inclusive, the dataset's own numbers).
        root: the dataset root, to name the folder briefly in messages.
        listing: `list_frames(folder)` when the caller already has it (clips sharing a folder).

    Raises:
        SampleError: the folder is missing, or a frame of the range is not on disk.
    """
    where = relative(folder, root)
    if not folder.is_dir():
        raise SampleError(f"clip folder {where} not found")
    frames = list_frames(folder) if listing is None else listing
    numbers = [n for n in sorted(frames) if onset <= n <= offset]
    if not numbers:
        found = f"frames {min(frames)}..{max(frames)}" if frames else "no frames"
        raise SampleError(f"no frames {onset}..{offset} in {where} ({found} on disk)")
    missing = sorted(set(range(onset, offset + 1)) - set(numbers))
    if missing:
        raise SampleError(
            f"{len(missing)} missing frame(s) of {onset}..{offset} in {where}: {number_ranges(missing)}"
        )
    return tuple(numbers), tuple(frames[n] for n in numbers)


def size_mismatch(path: Path, shape: tuple, first: Path, first_shape: tuple) -> str | None:
    """Why frame `path` cannot join a clip whose first frame is `first`, or None when sizes agree.

    One rule and one message for `fsr preprocess` and `fsr predict`.
    """
    if shape[:2] == first_shape[:2]:
        return None
    (h0, w0), (h, w) = first_shape[:2], shape[:2]
    return (
        f"{path}: {w}x{h} pixels where the clip's first frame {first.name} is {w0}x{h0}; "
        "every frame of a clip must have one size"
    )


def number_ranges(numbers: list[int], *, limit: int = 6) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10' (at most `limit` runs, then '...')."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = [str(a) if a == b else f"{a}-{b}" for a, b in runs[:limit]]
    return ", ".join(text) + (", ..." if len(runs) > limit else "")


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` in POSIX form where it lies under it, else the full path."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
