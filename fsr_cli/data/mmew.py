"""MMEW reader (micro-expression part).

Assumptions, from public code that loads this release (there is no official loader):

- Annotation `MMEW_Micro_Exp.xlsx` (any `MMEW_Micro_Exp*.xlsx`) in ROOT, first sheet,
  header row 1: Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Action Units,
  Estimated Emotion, remarks. Subjects are numbers (1..30) and read as '01'..'30'; emotions
  lowercase (happiness, surprise, anger, disgust, fear, sadness, others).
- Frames `Micro_Expression/<emotion>/<Filename>/1.jpg` (numbered from 1), also with a subject
  level `Micro_Expression/<subject>/<emotion>/<Filename>/`, and under ROOT/MMEW/ or
  ROOT/MMEW_Final/. The clip folder is found by its name (the Filename cell) at either depth,
  case-insensitively, so both layouts read the same. 90 fps.
"""

from __future__ import annotations

import os
from pathlib import Path

from fsr_cli.data.annotated import BASE_FIELDS, ClipPlace, Layout, read_annotated, required_text
from fsr_cli.data.frames import parse_subject
from fsr_cli.data.sample import SampleTable
from fsr_cli.data.xlsx import find_file, read_sheet
from fsr_cli.errors import DatasetError

DATASET = "mmew"
FPS = 90.0
ANNOTATION = "MMEW_Micro_Exp.xlsx"
ANNOTATION_GLOB = "MMEW_Micro_Exp*.xlsx"
FRAME_DIRS = ("Micro_Expression", "MMEW/Micro_Expression", "MMEW_Final/Micro_Expression")
LAYOUT = Layout(dataset=DATASET, fps=FPS, fields=BASE_FIELDS)


def find_annotation(root: Path) -> Path | None:
    """The micro-expression label sheet of an MMEW root, or None."""
    return find_file(root, ANNOTATION, ANNOTATION_GLOB)


def read(root: Path) -> SampleTable:
    """Read an MMEW root into a sample table (bad rows become problems).

    Raises:
        DatasetError: no label sheet, no header row, or no Micro_Expression folder.
    """
    xlsx = find_annotation(root)
    if xlsx is None:
        raise DatasetError(
            f"{root}: no {ANNOTATION_GLOB} (expected the MMEW micro-expression sheet {ANNOTATION})"
        )
    sheet = read_sheet(xlsx, marker="Subject", expected="the MMEW micro-expression sheet")
    frames = next((root / d for d in FRAME_DIRS if (root / d).is_dir()), None)
    if frames is None:
        looked = ", ".join(f"{d}/" for d in FRAME_DIRS)
        raise DatasetError(f"{root}: no MMEW frame folder; looked for {looked}")
    clip_dirs = _clip_dirs(frames)

    def locate(record: dict, onset: int) -> ClipPlace:
        subject = parse_subject(record["subject"], width=2)
        clip = required_text(record["clip"], "filename")
        emotion = str(record["emotion"] or "").strip()
        folder = clip_dirs.get(clip.lower(), frames / emotion / clip)
        return ClipPlace(subject=subject, clip=clip, folder=folder)

    return read_annotated(sheet, layout=LAYOUT, root=root, locate=locate)


def _clip_dirs(frames: Path) -> dict[str, Path]:
    """Lowercased folder name -> folder, for every folder two or three levels below `frames`."""
    found: dict[str, Path] = {}
    level = [frames]
    for depth in (1, 2, 3):
        level = [
            Path(e.path) for d in level for e in sorted(os.scandir(d), key=lambda e: e.name) if e.is_dir()
        ]
        if depth >= 2:
            for d in level:
                found.setdefault(d.name.lower(), d)
    return found
