"""The row loop shared by the spreadsheet readers: one annotation row -> one checked `Sample`.

A reader says where its columns are (`Layout.fields`) and where a row's clip folder lies
(`locate`); everything a bad row can get wrong is checked here the same way for all datasets,
and a bad row becomes a `Problem` naming 'FILE.xlsx:row N' instead of stopping the read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsr_cli.data.frames import check_order, clip_frames, list_frames, parse_apex, parse_frame, text_cell
from fsr_cli.data.labels import composite_label, normalise_emotion
from fsr_cli.data.sample import Problem, Sample, SampleTable
from fsr_cli.data.xlsx import Sheet
from fsr_cli.errors import DatasetError, SampleError

# Header aliases of the fields every annotated reader needs; readers override what differs.
BASE_FIELDS: dict[str, tuple[str, ...]] = {
    "subject": ("Subject", "sub"),
    "clip": ("Filename", "seq"),
    "onset": ("OnsetFrame", "Onset"),
    "apex": ("ApexFrame", "Apex"),
    "offset": ("OffsetFrame", "Offset"),
    "aus": ("Action Units", "AU", "AUs"),
    "emotion": ("Estimated Emotion", "emotion"),
}


@dataclass(frozen=True)
class Layout:
    """What a spreadsheet reader declares about its dataset."""

    dataset: str
    fps: float
    fields: dict[str, tuple[str, ...]]
    optional: tuple[str, ...] = ("aus",)


@dataclass(frozen=True)
class ClipPlace:
    """Where one annotation row's frames are: its subject and clip ids and its folder."""

    subject: str
    clip: str
    folder: Path


# locate(record, onset) -> ClipPlace; raises SampleError when the row names no usable clip.
Locate = Callable[[dict[str, Any], int], ClipPlace]


def read_annotated(sheet: Sheet, *, layout: Layout, root: Path, locate: Locate) -> SampleTable:
    """Turn every row of `sheet` into a Sample checked against the frames on disk.

    Raises:
        DatasetError: a required column is missing (nothing could be read).
    """
    samples: list[Sample] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    listings: dict[Path, dict[int, Path]] = {}  # clips of CAS(ME)^3 videos share one folder
    for number, record in sheet.records(layout.fields, optional=layout.optional):
        source = f"{sheet.path.name}:row {number}"
        try:
            sample = _row_sample(
                record, layout=layout, root=root, locate=locate, source=source, listings=listings
            )
            if sample.uid in seen:
                raise SampleError(f"duplicate of {seen[sample.uid]} ({sample.subject}/{sample.clip})")
        except SampleError as exc:
            problems.append(Problem(source=source, reason=str(exc)))
            continue
        seen[sample.uid] = source
        samples.append(sample)
    return SampleTable(dataset=layout.dataset, root=root, samples=samples, problems=problems)


def _row_sample(
    record: dict[str, Any],
    *,
    layout: Layout,
    root: Path,
    locate: Locate,
    source: str,
    listings: dict[Path, dict[int, Path]],
) -> Sample:
    onset = parse_frame(record["onset"], "onset")
    offset = parse_frame(record["offset"], "offset")
    apex = parse_apex(record["apex"])
    check_order(onset, apex, offset)
    emotion = normalise_emotion(text_cell(record["emotion"]))
    if not emotion:
        raise SampleError("emotion is empty")
    place = locate(record, onset)
    if place.folder not in listings:
        listings[place.folder] = list_frames(place.folder)
    numbers, files = clip_frames(place.folder, onset, offset, root=root, listing=listings[place.folder])
    return Sample(
        dataset=layout.dataset,
        subject=place.subject,
        clip=place.clip,
        frames=files,
        frame_numbers=numbers,
        onset=onset,
        apex=apex,
        offset=offset,
        emotion=emotion,
        fps=layout.fps,
        aus=text_cell(record.get("aus")),
        source=source,
        label3=composite_label(emotion, layout.dataset),
    )


def required_text(cell: Any, name: str) -> str:
    """A cell that must hold text (a clip name): trimmed, or SampleError when empty."""
    text = text_cell(cell)
    if not text:
        raise SampleError(f"{name} is empty")
    return text


def frame_root(root: Path, names: tuple[str, ...], *, subject_glob: str, what: str) -> Path:
    """The folder holding the subject folders: the first of `names` under root, or root itself.

    Raises:
        DatasetError: none of them exists and root has no subject folders either.
    """
    for name in names:
        if (root / name).is_dir():
            return root / name
    if any(p.is_dir() for p in root.glob(subject_glob)):
        return root
    looked = ", ".join(f"{n}/" for n in names)
    raise DatasetError(f"{root}: no {what} frame folder; looked for {looked} or {subject_glob} under it")
