import re

import pytest
from dataset_builders import CASME2_HEADER, casme2_row, make_casme2, write_frames, write_xlsx

from fsr_cli.data import Problem, read_dataset
from fsr_cli.data.casme2 import read
from fsr_cli.errors import DatasetError

SHEET = "CASME2-coding-20140508.xlsx"


@pytest.fixture
def casme2(tmp_path):
    rows = [
        casme2_row(
            "01", "EP02_01f", 46, 59, 86, "happiness", aus="12"
        ),  # row 2: text subject, starts at img46
        casme2_row(2, "EP03_02", 10, "/", 14, "repression", aus=4),  # row 3: numeric subject, apex '/'
        casme2_row("01", "EP04_01", 5, 3, 8, "others"),  # row 4: apex before onset
        casme2_row("02", "EP05_01", 1, 2, 6, "Disgust "),  # row 5: frame 4 missing on disk
        casme2_row("03", "EP06_01", 1, 2, 3, "fear"),  # row 6: no clip folder
        casme2_row("02", "EP07_01", "x", 2, 3, "fear"),  # row 7: unreadable onset
    ]
    frames = {
        ("sub01", "EP02_01f"): range(46, 90),
        ("sub02", "EP03_02"): range(10, 15),
        ("sub01", "EP04_01"): range(1, 10),
        ("sub02", "EP05_01"): [1, 2, 3, 5, 6],
    }
    return make_casme2(tmp_path, rows, frames=frames)


def test_good_rows_become_samples_with_absolute_frames(casme2):
    table = read(casme2)
    assert table.dataset == "casme2" and table.root == casme2
    first, second = table.samples
    assert (first.subject, first.clip, first.onset, first.apex, first.offset) == (
        "01",
        "EP02_01f",
        46,
        59,
        86,
    )
    assert first.frame_numbers == tuple(range(46, 87))
    assert first.frames[0] == casme2 / "CASME2_RAW_selected/sub01/EP02_01f/img46.jpg"
    assert first.frame_path(59).name == "img59.jpg"
    assert (first.emotion, first.label3, first.aus, first.fps) == ("happiness", "positive", "12", 200.0)
    assert first.source == f"{SHEET}:row 2"
    assert (second.subject, second.apex, second.label3, second.aus) == ("02", None, "negative", "4")
    assert second.uid == "casme2/02/EP03_02"


def test_bad_rows_are_problems_with_file_and_row(casme2):
    assert read(casme2).problems == [
        Problem(
            f"{SHEET}:row 4", "frames out of order: onset 5, apex 3, offset 8 (need onset <= apex <= offset)"
        ),
        Problem(f"{SHEET}:row 5", "1 missing frame(s) of 1..6 in CASME2_RAW_selected/sub02/EP05_01: 4"),
        Problem(f"{SHEET}:row 6", "clip folder CASME2_RAW_selected/sub03/EP06_01 not found"),
        Problem(f"{SHEET}:row 7", "onset is not a frame number: 'x'"),
    ]


def test_cropped_frames_and_2019_sheet(tmp_path):
    header = [*CASME2_HEADER[:8], "Objective Classes", "Estimated Emotion"]
    write_xlsx(
        tmp_path / "CASME2-coding-2019.xlsx",
        [header, ["01", "EP02_01f", None, 46, 47, 48, None, "12", 1, "happiness"]],
    )
    write_frames(tmp_path / "Cropped/sub01/EP02_01f", range(46, 49), pattern="reg_img{n}.jpg")
    (sample,) = read_dataset(tmp_path).samples
    assert sample.frames[-1] == tmp_path / "Cropped/sub01/EP02_01f/reg_img48.jpg"
    assert sample.emotion == "happiness" and sample.source == "CASME2-coding-2019.xlsx:row 2"


def test_duplicate_rows_are_skipped(tmp_path):
    rows = [casme2_row("01", "EP02_01f", 1, 2, 3, "surprise"), casme2_row(1, "EP02_01f", 1, 2, 3, "surprise")]
    table = read(make_casme2(tmp_path, rows, frames={("sub01", "EP02_01f"): range(1, 4)}))
    assert len(table.samples) == 1
    assert table.problems == [Problem(f"{SHEET}:row 3", f"duplicate of {SHEET}:row 2 (01/EP02_01f)")]


def test_missing_sheet_header_and_frames_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError) as err:
        read(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: no CASME2-coding-*.xlsx "
        "(expected the CASME II coding sheet CASME2-coding-20140508.xlsx)"
    )
    write_xlsx(tmp_path / SHEET, [["CASME II"], ["01", "EP02_01f"]])
    with pytest.raises(DatasetError) as err:
        read(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / SHEET}: no header row with a 'Subject' cell in any sheet ('Sheet1'); "
        "expected the CASME II coding sheet"
    )
    write_xlsx(tmp_path / SHEET, [CASME2_HEADER])
    with pytest.raises(DatasetError, match=r"has a header \(row 1\) but no data rows; expected the CASME II"):
        read(tmp_path)
    write_xlsx(tmp_path / SHEET, [CASME2_HEADER, ["01", "EP02_01f", None, 1, 2, 3, None, "4", "happiness"]])
    message = (
        f"{tmp_path}: no CASME II frame folder; looked for CASME2_RAW_selected/, CASME2_RAW/, CASME2-RAW/, "
        "Cropped/, CASME2_Cropped/ or sub[0-9]* under it"
    )
    with pytest.raises(DatasetError, match=re.escape(message)):
        read(tmp_path)


def test_composite_counts_leave_out_the_rows_the_megc2019_list_leaves_out(tmp_path):
    """The 2014-05-08 sheet keeps two rows of composite classes that the 145-sample list has not:
    an apex written '/' (sub04 EP12_01f) and onset = apex (sub05 EP09_05f)."""
    from fsr_cli.data.summary import label_counts

    rows = [
        casme2_row("04", "EP12_01f", 10, "/", 30, "disgust"),
        casme2_row("05", "EP09_05f", 69, 69, 90, "happiness"),
        casme2_row("05", "EP01_01", 5, 12, 20, "surprise"),
        casme2_row("06", "EP02_02", 5, 12, 20, "others"),
    ]
    frames = {("sub04", "EP12_01f"): range(10, 31), ("sub05", "EP09_05f"): range(69, 91)}
    frames.update({("sub05", "EP01_01"): range(5, 21), ("sub06", "EP02_02"): range(5, 21)})
    table = read(make_casme2(tmp_path, rows, frames=frames))
    assert len(table.samples) == 4 and not table.problems  # the reader keeps them: apex '/' is spotted
    composite = label_counts(table.samples, label_set="composite")
    assert composite["by_label"] == {"negative": 0, "positive": 0, "surprise": 1, "outside_set": 3}
    assert [(r["sample"], r["reason"].split(" (")[0]) for r in composite["left_out"]] == [
        ("casme2/04/EP12_01f", "no annotated apex"),
        ("casme2/05/EP09_05f", "apex = onset, no onset-to-apex motion"),
        ("casme2/06/EP02_02", "emotion 'others' is not in label set composite"),
    ]
    five = label_counts(table.samples, label_set="casme2-5")  # other sets keep the rule-based mapping
    assert five["by_label"]["disgust"] == 1 and five["by_label"]["happiness"] == 1 and five["left_out"] == []


def test_every_left_out_sample_is_named_and_carries_no_class(tmp_path):
    # issue 29 items 9 and 10: a misspelled emotion was counted outside but not named; a row the
    # composite leaves out still had label3 "negative" in `fsr index --json`
    from fsr_cli.data.summary import index_document

    rows = [
        casme2_row("04", "EP12_01f", 10, "/", 30, "disgust"),
        casme2_row("05", "EP01_01", 5, 12, 20, "happpiness"),
        casme2_row("05", "EP02_01", 5, 12, 20, "surprise"),
    ]
    frames = {("sub04", "EP12_01f"): range(10, 31), ("sub05", "EP01_01"): range(5, 21)}
    frames[("sub05", "EP02_01")] = range(5, 21)
    doc = index_document(read(make_casme2(tmp_path, rows, frames=frames)), label_set="composite")
    reasons = {r["sample"]: r["reason"] for r in doc["counts"]["left_out"]}
    assert (
        reasons["casme2/05/EP01_01"]
        == "emotion 'happpiness' is not a known emotion word (closest: happiness)"
    )
    assert reasons["casme2/04/EP12_01f"].startswith("no annotated apex")
    assert len(reasons) == doc["counts"]["by_label"]["outside_set"] == 2
    label3 = {f"{s['dataset']}/{s['subject']}/{s['clip']}": s["label3"] for s in doc["samples"]}
    assert label3 == {"casme2/04/EP12_01f": None, "casme2/05/EP01_01": None, "casme2/05/EP02_01": "surprise"}
