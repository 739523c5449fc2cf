"""Spotting truth from the long-video releases' sheets (real .xlsx files written with openpyxl in
each release's layout as public loaders read it), and the MEGC video matching."""

import openpyxl
import pytest

from fsr_cli.errors import UsageError
from fsr_cli.spot import megc


def book(path, sheets: dict):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    wb.save(path)
    return path


def test_casme2_code_sheet_with_its_naming_rules(tmp_path):
    path = book(
        tmp_path / "CAS(ME)^2code_final.xlsx",
        {
            "CASMEcode_final": [
                (1, "anger1_1", 557, 572, 608, "4+10", "negative", "macro-expression", "anger"),
                (1, "anger1_2", 2002, 2006, 2013, "4", "negative", "micro-expression", "anger"),
                (
                    2,
                    "disgust1_1",
                    100,
                    0,
                    0,
                    "9",
                    "negative",
                    "micro-expression",
                    "disgust",
                ),  # apex, offset uncoded
                (None, None, None, None, None, None, None, None, None),
            ],
            "naming rule1": [("s15", 15, 1), ("s16", 16, 2)],
            "naming rule2": [(401, "anger1"), (101, "disgust1")],
        },
    )
    rows = megc.read_truth(path)
    assert [(r["video"], r["type"], r["onset"], r["apex"], r["offset"]) for r in rows] == [
        ("15_0401", "macro", 557, 572, 608),
        ("15_0401", "micro", 2002, 2006, 2013),
        ("16_0101", "micro", 100, None, 100),
    ]
    assert megc.same_video("15_0401angrywhole", "15_0401") and not megc.same_video("15_04011", "15_0401")


def test_samm_long_sheet_below_its_preamble(tmp_path):
    preamble = [("SAMM long videos",), ("",), ("Release v1",)]
    header = (
        "Subject",
        "Filename",
        "Inducement Code",
        "Onset",
        "Apex",
        "Offset",
        "Duration",
        "Type",
        "Action Units",
    )
    path = book(
        tmp_path / "SAMM_LongVideos_V1_Release.xlsx",
        {
            "FACS_Movement_Only": [
                *preamble,
                header,
                ("006", "006_1_1", 1, 5562, 5588, 5632, 71, "Micro - 1/2", "4"),
                ("006", "006_1_2", 1, 6000, -1, 6300, 301, "Macro", "12"),
                ("011", "011_3_10", 3, 100, 120, 150, 51, "Micro - 1/2", "R14"),
            ]
        },
    )
    rows = megc.read_truth(path)
    assert [(r["video"], r["type"], r["apex"]) for r in rows] == [
        ("006_1", "micro", 5588),
        ("006_1", "macro", None),
        ("011_3", "micro", 120),
    ]


def test_casme3_part_a_rows_are_micro_expressions_of_their_recording(tmp_path):
    path = book(
        tmp_path / "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
        {"label": [("Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion"),
                   ("spNO.1", "a", 355, 362, 370, "L12", 1, "happy")]},
    )  # fmt: skip
    rows = megc.read_truth(path)
    assert (rows[0]["video"], rows[0]["type"], rows[0]["emotion"]) == (
        "spNO.1_a",
        "micro",
        "happy",
    )
    assert megc.video_key("data/part_A/spNO.1/a/color") == "spNO.1_a"


def test_unknown_and_empty_sheets_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="not a known long-video annotation"):
        megc.read_truth(book(tmp_path / "labels.xlsx", {"x": [("a",)]}))
    empty = book(
        tmp_path / "CAS(ME)^2code_final.xlsx",
        {"CASMEcode_final": [("x",)], "naming rule1": [("s15", 15, 1)], "naming rule2": [(401, "anger1")]},
    )
    with pytest.raises(UsageError, match="no interval could be read"):
        megc.read_truth(empty)
    with pytest.raises(UsageError, match="naming rule1"):
        megc.read_truth(
            book(
                tmp_path / "CAS(ME)^2code_final(Updated).xlsx",
                {"CASMEcode_final": [(1, "anger1_1", 1, 2, 3, "", "", "micro", "")]},
            )
        )
