from dataset_builders import make_samm, samm_row

from fsr_cli.data import Problem
from fsr_cli.data.samm import read

SHEET = "SAMM_Micro_FACS_Codes_v2.xlsx"


def test_samm_preamble_sheet_subjects_and_capitalised_emotions(tmp_path):
    rows = [
        samm_row(6, "006_1_2", 5562, 5588, 5604, "Anger"),  # row 15: numeric subject
        samm_row("007", "007_3_1", 10, -1, 12, "Other"),  # row 16: text subject, apex -1 (not annotated)
        samm_row(7, "007_5_2", 30, 35, 31, "Happiness"),  # row 17: apex after offset
    ]
    frames = {
        ("006", "006_1_2"): range(5500, 5610),
        ("007", "007_3_1"): range(10, 13),
        ("007", "007_5_2"): range(30, 40),
    }
    table = read(make_samm(tmp_path, rows, frames=frames))
    first, second = table.samples
    assert (first.subject, first.clip, first.emotion, first.label3) == ("006", "006_1_2", "anger", "negative")
    assert first.frames[0] == tmp_path / "SAMM/006/006_1_2/006_05562.jpg"
    assert len(first.frames) == 5604 - 5562 + 1 and first.fps == 200.0
    assert first.source == f"{SHEET}:row 15" and first.aus == "R12"
    assert (second.subject, second.apex, second.emotion, second.label3) == ("007", None, "other", None)
    assert table.problems == [
        Problem(
            f"{SHEET}:row 17",
            "frames out of order: onset 30, apex 35, offset 31 (need onset <= apex <= offset)",
        )
    ]


def test_first_sheet_when_there_is_no_micro_only(tmp_path):
    root = make_samm(
        tmp_path,
        [samm_row(6, "006_1_2", 1, 2, 3, "Surprise")],
        frames={("006", "006_1_2"): range(1, 4)},
        sheets=False,
    )
    (sample,) = read(root).samples
    assert sample.label3 == "surprise"
