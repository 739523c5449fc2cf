"""CASME II reader.

Layout (as released by the Institute of Psychology, CAS)::

    ROOT/CASME2-coding-20140508.xlsx          (any CASME2-coding-*.xlsx; the 2019 file adds
                                                an 'Objective Classes' column, ignored here)
    ROOT/CASME2_RAW_selected/sub01/EP02_01f/img46.jpg
    ROOT/Cropped/sub01/EP02_01f/reg_img46.jpg  (used when the raw frames are absent)

Header row 1: Subject, Filename, (blank), OnsetFrame, ApexFrame, OffsetFrame, (blank),
Action Units, Estimated Emotion. Subjects are stored as text '01' (a number 1 is read as '01'
too); frame numbers are absolute; the one apex written '/' is read as None (spotted later).
200 fps.
"""

from __future__ import annotations

from pathlib import Path

from fsr_cli.data.annotated import BASE_FIELDS, ClipPlace, Layout, frame_root, read_annotated, required_text
from fsr_cli.data.frames import parse_subject
from fsr_cli.data.sample import SampleTable
from fsr_cli.data.xlsx import find_file, read_sheet
from fsr_cli.errors import DatasetError

DATASET = "casme2"
FPS = 200.0
ANNOTATION = "CASME2-coding-20140508.xlsx"
ANNOTATION_GLOB = "CASME2-coding-*.xlsx"
FRAME_DIRS = ("CASME2_RAW_selected", "CASME2_RAW", "CASME2-RAW", "Cropped", "CASME2_Cropped")
LAYOUT = Layout(dataset=DATASET, fps=FPS, fields=BASE_FIELDS)


def find_annotation(root: Path) -> Path | None:
    """The coding sheet of a CASME II root, or None."""
    return find_file(root, ANNOTATION, ANNOTATION_GLOB)


def read(root: Path) -> SampleTable:
    """Read a CASME II root into a sample table (bad rows become problems).

    Raises:
        DatasetError: no coding sheet, no header row, or no frame folder.
    """
    xlsx = find_annotation(root)
    if xlsx is None:
        raise DatasetError(f"{root}: no {ANNOTATION_GLOB} (expected the CASME II coding sheet {ANNOTATION})")
    sheet = read_sheet(xlsx, marker="Subject", expected="the CASME II coding sheet")
    frames = frame_root(root, FRAME_DIRS, subject_glob="sub[0-9]*", what="CASME II")

    def locate(record: dict, onset: int) -> ClipPlace:
        subject = parse_subject(record["subject"], width=2, prefix="sub")
        clip = required_text(record["clip"], "filename")
        return ClipPlace(subject=subject, clip=clip, folder=frames / f"sub{subject}" / clip)

    return read_annotated(sheet, layout=LAYOUT, root=root, locate=locate)
