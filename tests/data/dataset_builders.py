"""Tiny native-layout datasets for the reader tests: real .xlsx files (openpyxl), real images (cv2)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import openpyxl

CASME2_HEADER = [
    "Subject",
    "Filename",
    None,
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
]
SAMM_HEADER = [
    "Subject",
    "Filename",
    "Inducement Code",
    "Onset Frame",
    "Apex Frame",
    "Offset Frame",
    "Duration",
    "Micro",
    "Action Units",
    "Estimated Emotion",
    "Objective Classes",
    "Notes",
]
# Thirteen rows of notes above SAMM's header, one of them mentioning 'Subject' inside a sentence.
SAMM_PREAMBLE = (
    [["SAMM Micro-expression FACS codes"]]
    + [[f"note {i}"] for i in range(1, 12)]
    + [["Subject numbers are zero-padded in the folder names"]]
)
CASME3_HEADER = ["Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"]
MMEW_HEADER = [
    "Subject",
    "Filename",
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    "Action Units",
    "Estimated Emotion",
    "remarks",
]


def write_frames(folder: Path, numbers, *, pattern: str = "img{n}.jpg") -> list[Path]:
    """Small grey images named by `pattern`, one per frame number."""
    folder.mkdir(parents=True, exist_ok=True)
    image = np.full((8, 8), 128, np.uint8)
    paths = []
    for n in numbers:
        path = folder / pattern.format(n=n)
        assert cv2.imwrite(str(path), image)
        paths.append(path)
    return paths


def write_xlsx(path: Path, rows: list[list], *, sheet: str = "Sheet1", before: tuple[str, ...] = ()) -> Path:
    """An .xlsx whose sheet `sheet` holds `rows`; sheets named in `before` come first, holding junk."""
    book = openpyxl.Workbook()
    names = [*before, sheet]
    book.active.title = names[0]
    for name in names[1:]:
        book.create_sheet(name)
    for name in before:
        book[name].append(["not", "the", "sheet"])
    ws = book[sheet]
    for row in rows:
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def casme2_row(subject, clip, onset, apex, offset, emotion, aus="4+10") -> list:
    return [subject, clip, None, onset, apex, offset, None, aus, emotion]


def make_casme2(root: Path, rows: list[list], *, frames: dict[tuple[str, str], range], cropped=False) -> Path:
    """CASME II: coding sheet + frames {(subject folder, clip): frame numbers}."""
    write_xlsx(root / "CASME2-coding-20140508.xlsx", [CASME2_HEADER, *rows])
    base, pattern = ("Cropped", "reg_img{n}.jpg") if cropped else ("CASME2_RAW_selected", "img{n}.jpg")
    for (subject, clip), numbers in frames.items():
        write_frames(root / base / subject / clip, numbers, pattern=pattern)
    return root


def samm_row(subject, clip, onset, apex, offset, emotion, aus="R12") -> list:
    return [
        subject,
        clip,
        "1_2",
        onset,
        apex,
        offset,
        offset - onset + 1,
        "Micro - 1/2",
        aus,
        emotion,
        "",
        "",
    ]


def make_samm(root: Path, rows: list[list], *, frames: dict[tuple[str, str], range], sheets=True) -> Path:
    """SAMM: MICRO_ONLY sheet after a 13-row preamble + frames {(subject, clip): numbers}."""
    before = ("FACS_CODES",) if sheets else ()
    name = "MICRO_ONLY" if sheets else "Sheet1"
    write_xlsx(
        root / "SAMM_Micro_FACS_Codes_v2.xlsx",
        [*SAMM_PREAMBLE, SAMM_HEADER, *rows],
        sheet=name,
        before=before,
    )
    for (subject, clip), numbers in frames.items():
        write_frames(root / "SAMM" / subject / clip, numbers, pattern=subject + "_{n:05d}.jpg")
    return root


def make_smic(root: Path, clips: dict[tuple[str, str, str], range]) -> Path:
    """SMIC-HS: {(subject, label, clip): frame numbers} under SMIC_all_raw/HS."""
    hs = root / "SMIC_all_raw" / "HS"
    for (subject, label, clip), numbers in clips.items():
        write_frames(hs / subject / "micro" / label / clip, numbers, pattern="image{n:06d}.bmp")
    return root
