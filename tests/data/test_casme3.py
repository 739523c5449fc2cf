import pytest
from dataset_builders import CASME3_HEADER, write_frames, write_xlsx

from fsr_cli.data import Problem
from fsr_cli.data.casme3 import read
from fsr_cli.errors import DatasetError

SHEET = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
ROWS = [
    CASME3_HEADER,
    ["spNO.1", "a", 355, 360, 366, "4+7", "1", "happy"],  # row 2
    ["spNO.1", "a", 900, 905, 910, "12", "2", "Sad"],  # row 3: second ME of the same recording
    ["spNO.216", "e", 0, 0, 25, "4", "3", "disgust"],  # row 4: no frame 0 on disk
]


def test_clip_layout_case_insensitive_folders(tmp_path):
    write_xlsx(tmp_path / "annotation" / SHEET, ROWS, sheet="label", before=("Sheet1",))
    frames = tmp_path / "Part_A_ME_clip/frame"
    write_frames(frames / "spNo.1_a_355", range(355, 367), pattern="{n}.jpg")  # folders write 'spNo'
    write_frames(frames / "spNo.1_a_900", range(900, 911), pattern="{n}.jpg")
    write_frames(frames / "spNo.216_e_0", range(1, 26), pattern="{n}.jpg")
    table = read(tmp_path)
    assert [(s.subject, s.clip, s.emotion, s.label3) for s in table.samples] == [
        ("spNO.1", "a_355", "happiness", "positive"),
        ("spNO.1", "a_900", "sadness", "negative"),
    ]
    first = table.samples[0]
    assert first.frames[0] == frames / "spNo.1_a_355/355.jpg"
    assert (first.apex, first.aus, first.fps, first.source) == (360, "4+7", 30.0, f"{SHEET}:row 2")
    assert table.problems == [
        Problem(f"{SHEET}:row 4", "1 missing frame(s) of 0..25 in Part_A_ME_clip/frame/spNo.216_e_0: 0")
    ]


def test_video_layout_clips_share_a_recording_folder(tmp_path):
    write_xlsx(tmp_path / SHEET, ROWS[:3], sheet="Sheet1")
    write_frames(tmp_path / "data/part_A/spNO.1/a/color", range(300, 1000), pattern="{n}.jpg")
    table = read(tmp_path)
    assert [s.frame_numbers[0] for s in table.samples] == [355, 900]
    assert table.samples[1].frames[-1] == tmp_path / "data/part_A/spNO.1/a/color/910.jpg"


def test_no_frame_folder(tmp_path):
    write_xlsx(tmp_path / SHEET, ROWS)
    with pytest.raises(DatasetError) as err:
        read(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: no CAS(ME)^3 frame folder; looked for Part_A_ME_clip/frame/, "
        "part_A/Part_A_ME_clip/frame/, frame/, data/part_A/, part_A/data/part_A/, part_A/"
    )


def test_the_v2_sheets_quirks(tmp_path):
    # Every cell is text (frame numbers too), 'Others' beside 'others', an offset written 0,
    # one Filename holding two micro-expressions, and an empty second sheet after the labels.
    import openpyxl

    rows = [
        CASME3_HEADER,
        ["spNO.1", "a", "355", "360", "366", "4+7", "1", "happy"],  # row 2
        ["spNO.1", "a", "900", "905", "910", "12", "2", "Others"],  # row 3
        ["spNO.1", "b", "100", "104", "110", "4", "3", "others"],  # row 4
        ["spNO.1", "b", "200", "203", "0", "4", "3", "surprise"],  # row 5: offset written 0
    ]
    path = write_xlsx(tmp_path / SHEET, rows, sheet="label")
    book = openpyxl.load_workbook(path)
    book.create_sheet("Sheet2")  # empty
    book.save(path)
    frames = tmp_path / "Part_A_ME_clip/frame"
    for clip, span in {
        "a_355": (355, 367),
        "a_900": (900, 911),
        "b_100": (100, 111),
        "b_200": (200, 204),
    }.items():
        write_frames(frames / f"spNO.1_{clip}", range(*span), pattern="{n}.jpg")
    table = read(tmp_path)
    assert [(s.clip, s.onset, s.apex, s.offset, s.emotion) for s in table.samples] == [
        ("a_355", 355, 360, 366, "happiness"),
        ("a_900", 900, 905, 910, "others"),
        ("b_100", 100, 104, 110, "others"),
    ]
    assert [p.source for p in table.problems] == [f"{SHEET}:row 5"]  # reported, never reordered
    assert "out of order: onset 200, apex 203, offset 0" in table.problems[0].reason
