"""CAS(ME)^3 part A reader (micro-expressions of part A only).

Assumptions, from public code that loads this release (there is no official loader):

- Annotation `cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx` (any
  `cas(me)3_part_A_ME_label_JpgIndex*.xlsx`, e.g. a dated v2 refresh), in ROOT, ROOT/annotation/
  or ROOT/part_A/annotation/. Sheet `label` (v2) or `Sheet1` (v1), else the first sheet.
  Header row 1: Subject ('spNO.1'), Filename ('a'), Onset, Apex, Offset, AU, Objective class,
  emotion (lowercase: happy, surprise, anger, disgust, fear, sad, others -> normalised to
  happiness, sadness, ...). Frame numbers are the JPG indices of the recording.
- Frames in one of two layouts, tried in this order:
  clips  `Part_A_ME_clip/frame/spNO.1_a_355/355.jpg` (SUBJECT_FILENAME_ONSET), also under
         ROOT/part_A/ or as ROOT/frame/;
  videos `data/part_A/spNO.1/a/color/355.jpg` (whole recordings; the clip is onset..offset),
         also ROOT/part_A/data/part_A/, ROOT/part_A/.
  Folder names are matched case-insensitively: the sheet writes 'spNO' where some copies of
  the folders write 'spNo'.
- One Filename (a recording) can hold several micro-expressions, so the clip id is
  FILENAME_ONSET ('a_355'). 30 fps.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fsr_cli.data.annotated import BASE_FIELDS, ClipPlace, Layout, read_annotated, required_text
from fsr_cli.data.sample import SampleTable
from fsr_cli.data.xlsx import find_file, read_sheet
from fsr_cli.errors import DatasetError

DATASET = "casme3"
FPS = 30.0
ANNOTATION = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
ANNOTATION_GLOB = "cas(me)3_part_A_ME_label_JpgIndex*.xlsx"
ANNOTATION_DIRS = (".", "annotation", "part_A/annotation")
SHEETS = ("label", "Sheet1")
CLIP_ROOTS = ("Part_A_ME_clip/frame", "part_A/Part_A_ME_clip/frame", "frame")
VIDEO_ROOTS = ("data/part_A", "part_A/data/part_A", "part_A")
LAYOUT = Layout(
    dataset=DATASET,
    fps=FPS,
    fields={**BASE_FIELDS, "aus": ("AU", "Action Units"), "emotion": ("emotion", "Estimated Emotion")},
)


def find_annotation(root: Path) -> Path | None:
    """The part A ME label sheet of a CAS(ME)^3 root, or None."""
    for sub in ANNOTATION_DIRS:
        found = find_file(root / sub, ANNOTATION, ANNOTATION_GLOB)
        if found is not None:
            return found
    return None


def read(root: Path) -> SampleTable:
    """Read a CAS(ME)^3 part A root into a sample table (bad rows become problems).

    Raises:
        DatasetError: no label sheet, no header row, or no frame folder of either layout.
    """
    xlsx = find_annotation(root)
    if xlsx is None:
        raise DatasetError(
            f"{root}: no {ANNOTATION_GLOB} (expected the CAS(ME)^3 part A label sheet {ANNOTATION})"
        )
    sheet = read_sheet(xlsx, marker="Subject", expected="the CAS(ME)^3 part A ME label sheet", sheets=SHEETS)
    return read_annotated(sheet, layout=LAYOUT, root=root, locate=_locator(root))


def _locator(root: Path):
    clips = _first_dir(root, CLIP_ROOTS)
    videos = _first_dir(root, VIDEO_ROOTS) if clips is None else None
    if clips is None and videos is None:
        looked = ", ".join(f"{d}/" for d in CLIP_ROOTS + VIDEO_ROOTS)
        raise DatasetError(f"{root}: no CAS(ME)^3 frame folder; looked for {looked}")
    names = _lower_index(clips if clips is not None else videos)
    sub_index = cache(_lower_index)  # one listing per subject folder, not per row

    def locate(record: dict, onset: int) -> ClipPlace:
        subject = required_text(record["subject"], "subject")
        recording = required_text(record["clip"], "filename")
        clip = f"{recording}_{onset}"
        if clips is not None:
            wanted = f"{subject}_{recording}_{onset}"
            return ClipPlace(subject, clip, names.get(wanted.lower(), clips / wanted))
        subject_dir = names.get(subject.lower(), videos / subject)
        folder = sub_index(subject_dir).get(recording.lower(), subject_dir / recording)
        return ClipPlace(subject, clip, folder / "color" if (folder / "color").is_dir() else folder)

    return locate


def _first_dir(root: Path, candidates: tuple[str, ...]) -> Path | None:
    return next((root / c for c in candidates if (root / c).is_dir()), None)


def _lower_index(folder: Path) -> dict[str, Path]:
    """Lowercased sub-folder name -> sub-folder."""
    if not folder.is_dir():
        return {}
    return {p.name.lower(): p for p in sorted(folder.iterdir()) if p.is_dir()}
