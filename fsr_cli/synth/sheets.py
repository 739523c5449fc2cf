"""The coding spreadsheets of CASME II and SAMM, laid out as the releases lay them out.

CASME II: `CASME2-coding-20140508.xlsx`, sheet 'Sheet1', header on row 1 with two blank header
cells, Subject stored as text ('01'), one ApexFrame written as '/' as in the real file.
SAMM: `SAMM_Micro_FACS_Codes_v2.xlsx`, sheet 'MICRO_ONLY', a 13-row preamble, header on row 14,
Subject stored as a number (6) while its folder is '006'.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fsr_cli.synth.layouts import PlannedClip
from fsr_cli.synth.motion import au_code

CASME2_SHEET = "CASME2-coding-20140508.xlsx"
CASME2_HEADER = (
    "Subject",
    "Filename",
    None,
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
)
SAMM_SHEET = "SAMM_Micro_FACS_Codes_v2.xlsx"
SAMM_HEADER = (
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
)
SAMM_PREAMBLE_ROWS = 13
SAMM_PREAMBLE = (
    "SAMM - Spontaneous Actions and Micro-Movements: FACS codes of the micro-movements",
    None,
    "Synthesised by fsr synth in the release's layout; the motion follows the Action Units column.",
    "Onset, Apex and Offset are absolute frame numbers of the image files (006_05562.jpg = frame 5562).",
    "Duration = Offset Frame - Onset Frame + 1, in frames at 200 fps.",
    "Objective Classes after Davison et al. (2018): 1 happiness, 2 surprise, 3 anger, 4 contempt/disgust,",
    "5 sadness, 6 fear, 7 other.",
)
# Workbook properties fixed so that a seed gives the same sheet content on every run.
_FIXED_TIME = datetime(2014, 5, 8)
_OBJECTIVE = {"happiness": 1, "surprise": 2, "anger": 3, "contempt": 4, "disgust": 4, "sadness": 5, "fear": 6}


def _workbook(title: str):
    from openpyxl import Workbook

    wb = Workbook()
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    ws = wb.active
    ws.title = title
    return wb, ws


def write_casme2_sheet(path: Path, clips: list[PlannedClip], *, slash_row: int | None) -> None:
    """CASME II coding sheet; clip number `slash_row` (0-based) gets ApexFrame '/'."""
    wb, ws = _workbook("Sheet1")
    ws.append(CASME2_HEADER)
    for i, c in enumerate(clips):
        s = c.spec
        apex = "/" if i == slash_row else s.apex
        ws.append(
            [c.subject, c.clip, None, s.onset, apex, s.offset, None, au_code(s.units), c.native_emotion]
        )
        ws.cell(row=ws.max_row, column=1).number_format = "@"  # stored as text, as in the release
    wb.save(path)


def write_samm_sheet(path: Path, clips: list[PlannedClip]) -> None:
    """SAMM coding sheet (sheet MICRO_ONLY, preamble, header on row 14)."""
    wb, ws = _workbook("MICRO_ONLY")
    for r in range(SAMM_PREAMBLE_ROWS):
        ws.cell(row=r + 1, column=1, value=SAMM_PREAMBLE[r] if r < len(SAMM_PREAMBLE) else None)
    for col, name in enumerate(SAMM_HEADER, start=1):
        ws.cell(row=SAMM_PREAMBLE_ROWS + 1, column=col, value=name)
    for i, c in enumerate(clips):
        s = c.spec
        inducement = int(c.clip.split("_")[1])
        row = [
            int(c.subject),
            c.clip,
            inducement,
            s.onset,
            s.apex,
            s.offset,
            s.offset - s.onset + 1,
            "Micro",
            au_code(s.units),
            c.native_emotion,
            _OBJECTIVE.get(c.emotion, 7),
            None,
        ]
        for col, value in enumerate(row, start=1):
            ws.cell(row=SAMM_PREAMBLE_ROWS + 2 + i, column=col, value=value)
    wb.save(path)
