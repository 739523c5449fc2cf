"""SMIC-HS reader: the cut clips of SMIC_all_raw, or SMIC-HS-E's long clips with their annotation.

Cut clips (as released by the University of Oulu)::

    ROOT/SMIC_all_raw/HS/s1/micro/negative/s1_ne_01/image059700.bmp

ROOT may also be SMIC_all_raw/ or HS/ itself. There is no spreadsheet: the label is the folder
name (negative / positive / surprise), onset is the first frame on disk, offset the last, and
there is no apex (later spotted). Subjects are not zero-padded ('s1'). `non_micro` folders are
ignored, and so are subjects without a `micro` folder (SMIC recorded more subjects than showed
micro-expressions). 100 fps (the high-speed camera).

Long clips (SMIC-E)::

    ROOT/HS_long/SMIC-HS-E_annotation.xlsx          (ROOT may be HS_long/ itself)
    ROOT/HS_long/SMIC-HS-E/s01/s1_ne_01/image308866.jpg   (or SMIC-HS-E/HS/s01/...)

The annotation's sheet HS (the book also has VIS; its cells are cross-sheet formulas, read by
their cached values) has the header Subject, Filename, (blank), OnsetF, OffsetF, Onset2F,
Offset2F, Onset3F, Offset3F, (blank), FirstF, LastF, TotalMF1..3, TotalVL, Emotion. Frame numbers
are absolute image indices (image308866.jpg is frame 308866), so a sample's onset and offset
are OnsetF and OffsetF and its frames those images of the long clip; there is no apex (spotted
between them). A second or third micro-expression of a clip (Onset2F.. columns) is not read.
Subjects are folders s01.. and read as 's1' like the cut clips, so both give the same ids.
"""

from __future__ import annotations

import re
from pathlib import Path

from fsr_cli.data.annotated import BASE_FIELDS, ClipPlace, Layout, frame_root, read_annotated, required_text
from fsr_cli.data.frames import clip_frames, list_frames, parse_subject, relative
from fsr_cli.data.labels import composite_label
from fsr_cli.data.sample import Problem, Sample, SampleTable
from fsr_cli.errors import DatasetError, SampleError

DATASET = "smic"
FPS = 100.0
LABELS = ("negative", "positive", "surprise")
_SUBJECT = re.compile(r"s(\d+)", re.IGNORECASE)
LONG_ANNOTATION = "SMIC-HS-E_annotation.xlsx"
LONG_GLOB = "SMIC-HS-E_annotation*.xlsx"
LONG_DIRS = ("SMIC-HS-E/HS", "SMIC-HS-E", "SMIC_HS_E")
LONG_LAYOUT = Layout(
    dataset=DATASET,
    fps=FPS,
    fields={**BASE_FIELDS, "onset": ("OnsetF",), "offset": ("OffsetF",), "emotion": ("Emotion",)},
    optional=("aus", "apex"),
)


def find_long(root: Path) -> Path | None:
    """SMIC-HS-E's annotation sheet at ROOT or ROOT/HS_long, or None."""
    from fsr_cli.data.xlsx import find_file

    for folder in (root, root / "HS_long"):
        found = find_file(folder, LONG_ANNOTATION, LONG_GLOB)
        if found is not None:
            return found
    return None


def find_hs(root: Path) -> Path | None:
    """The HS folder of a SMIC root (ROOT/SMIC_all_raw/HS, ROOT/HS or ROOT itself), or None."""
    for candidate in (root / "SMIC_all_raw" / "HS", root / "HS"):
        if candidate.is_dir():
            return candidate
    if any((s / "micro").is_dir() for s in _subject_dirs(root)):
        return root
    return None


def read(root: Path) -> SampleTable:
    """Read a SMIC-HS root into a sample table (bad clip folders or rows become problems).

    SMIC-HS-E's annotation, where there is one, decides: its long clips are read.

    Raises:
        DatasetError: no HS folder and no SMIC-HS-E annotation, or an unreadable annotation.
    """
    sheet = find_long(root)
    if sheet is not None:
        return read_long(root, sheet)
    hs = find_hs(root)
    if hs is None:
        raise DatasetError(
            f"{root}: no SMIC_all_raw/HS/ or HS/ folder (expected SMIC-HS: HS/s1/micro/negative/...)"
        )
    samples: list[Sample] = []
    problems: list[Problem] = []
    for subject_dir in _subject_dirs(hs):
        micro = subject_dir / "micro"
        if not micro.is_dir():
            continue
        for label_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            label = label_dir.name.lower()
            if label not in LABELS:
                reason = f"unknown label folder {label_dir.name!r} (expected {', '.join(LABELS)})"
                problems.append(Problem(source=relative(label_dir, root), reason=reason))
                continue
            for clip_dir in sorted(p for p in label_dir.iterdir() if p.is_dir()):
                try:
                    samples.append(_clip_sample(clip_dir, subject=subject_dir.name, label=label, root=root))
                except SampleError as exc:
                    problems.append(Problem(source=relative(clip_dir, root), reason=str(exc)))
    return SampleTable(dataset=DATASET, root=root, samples=samples, problems=problems)


def read_long(root: Path, xlsx: Path) -> SampleTable:
    """SMIC-HS-E: one sample per annotated row, its frames OnsetF..OffsetF of the long clip.

    Raises:
        DatasetError: no header row, or no SMIC-HS-E frame folder beside the sheet.
    """
    from fsr_cli.data.xlsx import read_sheet

    sheet = read_sheet(xlsx, marker="Subject", expected="the SMIC-HS-E annotation", sheets=("HS",))
    frames = frame_root(xlsx.parent, LONG_DIRS, subject_glob="s[0-9]*", what="SMIC-HS-E")

    def locate(record: dict, onset: int) -> ClipPlace:
        number = parse_subject(record["subject"], width=1, prefix="s")
        if not number.isdigit():
            raise SampleError(f"subject is not a number: {record['subject']!r}")
        clip = required_text(record["clip"], "filename")
        folders = [frames / f"s{int(number):02d}" / clip, frames / f"s{int(number)}" / clip]
        folder = next((f for f in folders if f.is_dir()), folders[0])
        return ClipPlace(subject=f"s{int(number)}", clip=clip, folder=folder)

    return read_annotated(sheet, layout=LONG_LAYOUT, root=root, locate=locate)


def _clip_sample(clip_dir: Path, *, subject: str, label: str, root: Path) -> Sample:
    frames = list_frames(clip_dir)
    if not frames:
        raise SampleError(f"no frames in {relative(clip_dir, root)}")
    onset, offset = min(frames), max(frames)
    numbers, files = clip_frames(clip_dir, onset, offset, root=root, listing=frames)
    return Sample(
        dataset=DATASET,
        subject=subject,
        clip=clip_dir.name,
        frames=files,
        frame_numbers=numbers,
        onset=onset,
        apex=None,
        offset=offset,
        emotion=label,
        fps=FPS,
        source=relative(clip_dir, root),
        label3=composite_label(label),
    )


def _subject_dirs(folder: Path) -> list[Path]:
    """s1, s2, ..., s10 in numeric order."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and _SUBJECT.fullmatch(p.name)]
    return sorted(found, key=lambda p: int(_SUBJECT.fullmatch(p.name).group(1)))
