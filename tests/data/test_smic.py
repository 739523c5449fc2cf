import pytest
from dataset_builders import make_smic, make_smic_e, smic_e_row, write_frames

from fsr_cli.data import Problem, read_dataset
from fsr_cli.data.smic import find_hs, find_long, read
from fsr_cli.errors import DatasetError


@pytest.fixture
def smic(tmp_path):
    root = make_smic(
        tmp_path,
        {
            ("s1", "negative", "s1_ne_01"): range(59700, 59712),
            ("s10", "positive", "s10_po_01"): range(1, 4),
            ("s2", "surprise", "s2_sur_01"): range(100, 105),
            ("s2", "surprise", "s2_sur_02"): [1, 2, 4],
        },
    )
    hs = root / "SMIC_all_raw/HS"
    write_frames(hs / "s1/non_micro/negative/s1_ne_99", range(3))
    write_frames(hs / "s3/non_micro/positive/s3_po_01", range(3))
    write_frames(hs / "s2/micro/happy/s2_ha_01", range(3))
    return root


def test_labels_from_folders_first_and_last_frame(smic):
    table = read(smic)
    assert [(s.subject, s.clip, s.emotion, s.label3) for s in table.samples] == [
        ("s1", "s1_ne_01", "negative", "negative"),
        ("s2", "s2_sur_01", "surprise", "surprise"),
        ("s10", "s10_po_01", "positive", "positive"),
    ]
    first = table.samples[0]
    assert (first.onset, first.apex, first.offset, first.fps) == (59700, None, 59711, 100.0)
    assert first.frames[0] == smic / "SMIC_all_raw/HS/s1/micro/negative/s1_ne_01/image059700.bmp"
    assert first.source == "SMIC_all_raw/HS/s1/micro/negative/s1_ne_01"


def test_gaps_and_unknown_label_folders_are_problems(smic):
    assert read(smic).problems == [
        Problem(
            "SMIC_all_raw/HS/s2/micro/happy",
            "unknown label folder 'happy' (expected negative, positive, surprise)",
        ),
        Problem(
            "SMIC_all_raw/HS/s2/micro/surprise/s2_sur_02",
            "1 missing frame(s) of 1..4 in SMIC_all_raw/HS/s2/micro/surprise/s2_sur_02: 3",
        ),
    ]


def test_root_may_be_the_parent_smic_all_raw_or_hs(smic):
    hs = smic / "SMIC_all_raw/HS"
    assert find_hs(smic) == find_hs(smic / "SMIC_all_raw") == find_hs(hs) == hs
    assert len(read(hs).samples) == len(read(smic / "SMIC_all_raw").samples) == 3
    assert read(hs).samples[0].source == "s1/micro/negative/s1_ne_01"


def test_no_hs_folder(tmp_path):
    with pytest.raises(DatasetError) as err:
        read(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: no SMIC_all_raw/HS/ or HS/ folder (expected SMIC-HS: HS/s1/micro/negative/...)"
    )


@pytest.fixture
def smic_e(tmp_path):
    rows = [
        smic_e_row(1, "s1_ne_01", 308866, 308875, 308850, 308890, "negative"),
        smic_e_row(3, "s3_sur_01", 12010, 12014, 12000, 12020, "surprise"),
        smic_e_row(3, "s3_po_02", 500, 520, 490, 530, "positive"),  # frames beyond the clip on disk
        smic_e_row(12, "s12_po_01", 77, 70, 60, 90, "positive"),  # offset before onset
    ]
    clips = {
        ("s01", "s1_ne_01"): range(308850, 308891),
        ("s03", "s3_sur_01"): range(12000, 12021),
        ("s03", "s3_po_02"): range(490, 511),
        ("s12", "s12_po_01"): range(60, 91),
    }
    return make_smic_e(tmp_path / "SMIC-E", rows, clips=clips)


def test_smic_hs_e_long_clips_take_onset_and_offset_from_the_formula_sheet(smic_e):
    table = read(smic_e)
    assert [(s.subject, s.clip, s.onset, s.apex, s.offset, s.label3) for s in table.samples] == [
        ("s1", "s1_ne_01", 308866, None, 308875, "negative"),
        ("s3", "s3_sur_01", 12010, None, 12014, "surprise"),
    ]
    first = table.samples[0]
    assert first.frame_numbers == tuple(range(308866, 308876))  # absolute image indices
    assert first.frames[0] == smic_e / "HS_long/SMIC-HS-E/s01/s1_ne_01/image308866.jpg"
    assert first.source == "SMIC-HS-E_annotation.xlsx:row 2" and first.fps == 100.0
    reasons = {p.source: p.reason for p in table.problems}
    assert reasons["SMIC-HS-E_annotation.xlsx:row 4"].startswith("10 missing frame(s) of 500..520")
    assert reasons["SMIC-HS-E_annotation.xlsx:row 5"].startswith("frames out of order: onset 77")


def test_smic_hs_e_is_found_at_the_root_or_in_hs_long_and_detected(smic_e):
    sheet = smic_e / "HS_long" / "SMIC-HS-E_annotation.xlsx"
    assert find_long(smic_e) == find_long(smic_e / "HS_long") == sheet
    assert len(read(smic_e / "HS_long").samples) == 2
    assert read_dataset(smic_e).dataset == "smic"  # auto-detected as SMIC
