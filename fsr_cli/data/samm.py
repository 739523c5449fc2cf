"""SAMM reader.

Layout (as released by Manchester Metropolitan University)::

    ROOT/SAMM_Micro_FACS_Codes_v2.xlsx     (any SAMM_Micro_FACS_Codes*.xlsx)
    ROOT/SAMM/006/006_1_2/006_05562.jpg

The sheet MICRO_ONLY (the first sheet when there is none) has a 13-row preamble; the header
row is found by its 'Subject' cell: Subject, Filename, Inducement Code, Onset Frame,
Apex Frame, Offset Frame, Duration, Micro, Action Units, Estimated Emotion, Objective Classes,
Notes. Subjects may be stored as 6 or '006'; folders are zero-padded to 3 digits. Emotions are
capitalised ('Anger', 'Other') and read lowercase. An apex of -1, '-' or '/' is read as None.
Greyscale, 200 fps.
"""

from __future__ import annotations

from pathlib import Path

from fsr_cli.data.annotated import BASE_FIELDS, ClipPlace, Layout, frame_root, read_annotated, required_text
from fsr_cli.data.frames import parse_subject
from fsr_cli.data.sample import SampleTable
from fsr_cli.data.xlsx import find_file, read_sheet
from fsr_cli.errors import DatasetError

DATASET = "samm"
FPS = 200.0
ANNOTATION = "SAMM_Micro_FACS_Codes_v2.xlsx"
ANNOTATION_GLOB = "SAMM_Micro_FACS_Codes*.xlsx"
SHEET = "MICRO_ONLY"
FRAME_DIRS = ("SAMM",)
LAYOUT = Layout(dataset=DATASET, fps=FPS, fields=BASE_FIELDS)


def find_annotation(root: Path) -> Path | None:
    """The FACS code sheet of a SAMM root, or None."""
    return find_file(root, ANNOTATION, ANNOTATION_GLOB)


def read(root: Path) -> SampleTable:
    """Read a SAMM root into a sample table (bad rows become problems).

    Raises:
        DatasetError: no code sheet, no header row, or no frame folder.
    """
    xlsx = find_annotation(root)
    if xlsx is None:
        raise DatasetError(f"{root}: no {ANNOTATION_GLOB} (expected the SAMM FACS code sheet {ANNOTATION})")
    sheet = read_sheet(xlsx, marker="Subject", expected="the SAMM FACS code sheet", sheets=(SHEET,))
    frames = frame_root(root, FRAME_DIRS, subject_glob="[0-9][0-9][0-9]", what="SAMM")

    def locate(record: dict, onset: int) -> ClipPlace:
        subject = parse_subject(record["subject"], width=3)
        clip = required_text(record["clip"], "filename")
        return ClipPlace(subject=subject, clip=clip, folder=frames / subject / clip)

    return read_annotated(sheet, layout=LAYOUT, root=root, locate=locate)
