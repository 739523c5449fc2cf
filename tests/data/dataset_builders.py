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


SMIC_E_HEADER = [
    "Subject", "Filename", None, "OnsetF", "OffsetF", "Onset2F", "Offset2F", "Onset3F", "Offset3F",
    None, "FirstF", "LastF", "TotalMF1", "TotalMF2", "TotalMF3", "TotalVL", "Emotion",
]  # fmt: skip


def smic_e_row(subject, clip, onset, offset, first, last, emotion) -> list:
    return [subject, clip, None, onset, offset, None, None, None, None, None, first, last,
            offset - onset + 1, None, None, last - first + 1, emotion]  # fmt: skip


def write_formula_xlsx(path: Path, rows: list[list], *, sheet: str, source_sheet: str) -> Path:
    """An .xlsx whose `sheet` cells are formulas ('=VIS!D2') with cached values, as in the SMIC-E release.

    openpyxl writes formulas without the cached values Excel stores, so the sheet's XML is
    written with both: <c><f>VIS!D2</f><v>308866</v></c>. `source_sheet` holds the plain values.
    """
    import re
    import zipfile

    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    book.active.title = sheet
    src = book.create_sheet(source_sheet)
    ws = book[sheet]
    for r, row in enumerate(rows, start=1):
        src.append(row)
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(r, c, f"={source_sheet}!{get_column_letter(c)}{r}")
    plain = path.with_suffix(".plain.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(plain)
    values = {(r, c): v for r, row in enumerate(rows, start=1) for c, v in enumerate(row, start=1)}

    def cached(match: re.Match) -> str:
        ref, formula = match.group(1), match.group(2)
        col = re.match(r"[A-Z]+", ref).group(0)
        r = int(ref[len(col) :])
        c = openpyxl.utils.column_index_from_string(col)
        v = values[(r, c)]
        if isinstance(v, str):
            return f'<c r="{ref}" t="str"><f>{formula}</f><v>{v}</v></c>'
        return f'<c r="{ref}"><f>{formula}</f><v>{v}</v></c>'

    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = re.sub(r'<c r="([A-Z]+\d+)"[^>]*><f>([^<]*)</f><v\s*/?>(?:</v>)?</c>', cached, text)
                data = text.encode()
            zout.writestr(item, data)
    plain.unlink()
    return path


def make_smic_e(root: Path, rows: list[list], *, clips: dict[tuple[str, str], range]) -> Path:
    """SMIC-HS-E: the annotation (sheet HS of formulas over sheet VIS) and long clips under HS_long/."""
    long = root / "HS_long"
    sheet = long / "SMIC-HS-E_annotation.xlsx"
    write_formula_xlsx(sheet, [SMIC_E_HEADER, *rows], sheet="HS", source_sheet="VIS")
    for (subject, clip), numbers in clips.items():
        write_frames(long / "SMIC-HS-E" / subject / clip, numbers, pattern="image{n:06d}.jpg")
    return root
