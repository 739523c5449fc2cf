import pytest
from dataset_builders import MMEW_HEADER, write_frames, write_xlsx

from fsr_cli.data import Problem
from fsr_cli.data.mmew import read

SHEET = "MMEW_Micro_Exp.xlsx"
ROWS = [
    MMEW_HEADER,
    [1, "S01-01-001", 1, 8, 15, "AU12", "happiness", None],  # row 2
    [13, "S13-07-001", 1, 5, 9, "AU4", "others", "blink"],  # row 3
    [2, "S02-03-002", 1, 20, 30, "AU1", "surprise", None],  # row 4: the clip ends at frame 12
]


@pytest.mark.parametrize("subject_level", [False, True])
def test_both_folder_layouts(tmp_path, subject_level):
    write_xlsx(tmp_path / SHEET, ROWS)
    micro = tmp_path / "Micro_Expression"
    for subject, emotion, clip, n in [
        ("S01", "happiness", "S01-01-001", 15),
        ("S13", "others", "S13-07-001", 9),
        ("S02", "surprise", "S02-03-002", 12),
    ]:
        folder = micro / subject / emotion / clip if subject_level else micro / emotion / clip
        write_frames(folder, range(1, n + 1), pattern="{n}.jpg")
    table = read(tmp_path)
    assert [(s.subject, s.clip, s.emotion, s.label3) for s in table.samples] == [
        ("01", "S01-01-001", "happiness", "positive"),
        ("13", "S13-07-001", "others", None),
    ]
    assert table.samples[0].fps == 90.0 and len(table.samples[0].frames) == 15
    where = (
        "Micro_Expression/S02/surprise/S02-03-002"
        if subject_level
        else "Micro_Expression/surprise/S02-03-002"
    )
    assert table.problems == [Problem(f"{SHEET}:row 4", f"18 missing frame(s) of 1..30 in {where}: 13-30")]
