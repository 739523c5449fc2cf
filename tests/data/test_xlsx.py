import re

import pytest
from dataset_builders import CASME2_HEADER, SAMM_HEADER, SAMM_PREAMBLE, write_xlsx

from fsr_cli.data.xlsx import find_file, normalise_header, read_sheet
from fsr_cli.errors import DatasetError


def test_normalise_header_ignores_case_spaces_and_blank_columns():
    assert normalise_header("Onset Frame") == normalise_header("OnsetFrame") == "onsetframe"
    assert normalise_header(" estimated_emotion ") == "estimatedemotion"
    assert normalise_header(None) == normalise_header("Unnamed: 2") == normalise_header("") == ""


def test_header_found_below_preamble_with_excel_row_numbers(tmp_path):
    rows = [*SAMM_PREAMBLE, SAMM_HEADER, [6, "006_1_2"], [None, None], [7, "007_3_1"]]
    sheet = read_sheet(write_xlsx(tmp_path / "s.xlsx", rows), marker="Subject", expected="x")
    assert sheet.header_row == 14
    # the blank row 16 is dropped, the others keep their Excel numbers
    assert [n for n, _ in sheet.rows] == [15, 17]
    assert sheet.column("onset frame") == 3
    assert sheet.column("Objective Classes") == 10


def test_blank_header_cells_do_not_become_columns(tmp_path):
    sheet = read_sheet(
        write_xlsx(tmp_path / "c.xlsx", [CASME2_HEADER, ["01", "EP01"]]), marker="Subject", expected="x"
    )
    assert sheet.columns == {
        "subject": 0,
        "filename": 1,
        "onsetframe": 3,
        "apexframe": 4,
        "offsetframe": 5,
        "actionunits": 7,
        "estimatedemotion": 8,
    }


def test_preferred_sheet_is_picked_case_insensitively(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [["Subject"], [1]], sheet="micro_only", before=("FACS",))
    assert read_sheet(path, marker="Subject", expected="x", sheets=("MICRO_ONLY",)).name == "micro_only"


def test_missing_header_names_file_sheet_and_expectation(tmp_path):
    path = write_xlsx(tmp_path / "c.xlsx", [["Name", "Onset"], ["a", 1]])
    with pytest.raises(DatasetError) as err:
        read_sheet(path, marker="Subject", expected="the CASME II coding sheet")
    assert str(err.value) == (
        f"{path}: no header row with a 'Subject' cell in any sheet ('Sheet1'); "
        "expected the CASME II coding sheet"
    )


def test_missing_required_column_names_it_and_what_was_found(tmp_path):
    sheet = read_sheet(
        write_xlsx(tmp_path / "c.xlsx", [["Subject", "Filename"], ["01", "EP01"]]),
        marker="Subject",
        expected="x",
    )
    with pytest.raises(DatasetError) as err:
        list(sheet.records({"subject": ("Subject",), "onset": ("OnsetFrame", "Onset")}))
    assert str(err.value) == (
        f"{tmp_path / 'c.xlsx'}: no 'OnsetFrame' column in the header (row 1 of sheet 'Sheet1'; "
        "found 'subject', 'filename')"
    )


def test_optional_column_reads_as_none(tmp_path):
    sheet = read_sheet(write_xlsx(tmp_path / "c.xlsx", [["Subject"], ["01"]]), marker="Subject", expected="x")
    assert list(sheet.records({"subject": ("Subject",), "aus": ("AU",)}, optional=("aus",))) == [
        (2, {"subject": "01", "aus": None})
    ]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DatasetError, match=re.escape(f"{tmp_path / 'no.xlsx'}: no such file (expected x)")):
        read_sheet(tmp_path / "no.xlsx", marker="Subject", expected="x")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(DatasetError, match=re.escape(f"{bad}: not a readable .xlsx file (")):
        read_sheet(bad, marker="Subject", expected="x")


def test_find_file_prefers_exact_name_then_newest_glob_match(tmp_path):
    for name in ("CASME2-coding-2019.xlsx", "casme2-coding-2020.xlsx", "~$CASME2-coding-2021.xlsx"):
        (tmp_path / name).touch()
    assert find_file(tmp_path, "CASME2-coding-20140508.xlsx", "CASME2-coding-*.xlsx").name == (
        "casme2-coding-2020.xlsx"
    )
    (tmp_path / "CASME2-coding-20140508.xlsx").touch()
    assert find_file(tmp_path, "CASME2-coding-20140508.xlsx", "CASME2-coding-*.xlsx").name == (
        "CASME2-coding-20140508.xlsx"
    )
    assert find_file(tmp_path / "nowhere", "*.xlsx") is None


def test_a_wrongly_recorded_used_range_does_not_truncate_the_sheet(tmp_path):
    import zipfile

    good = write_xlsx(tmp_path / "good.xlsx", [CASME2_HEADER, ["01", "EP02_01f", None, 46, 59, 86]])
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:I2" />' in data
                data = data.replace(b'<dimension ref="A1:I2" />', b'<dimension ref="A1" />')
            dst.writestr(item, data)
    sheet = read_sheet(bad, marker="Subject", expected="x")
    assert sheet.column("Estimated Emotion") == 8
    assert sheet.rows == [(2, ("01", "EP02_01f", None, 46, 59, 86))]


def test_the_data_sheet_is_found_by_its_header_behind_other_sheets(tmp_path):
    path = write_xlsx(
        tmp_path / "s.xlsx", [["Subject", "Filename"], ["01", "EP01"]], sheet="data", before=("notes",)
    )
    sheet = read_sheet(path, marker="Subject", expected="x")
    assert sheet.name == "data" and sheet.rows == [(2, ("01", "EP01"))]
