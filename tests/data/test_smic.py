import pytest
from dataset_builders import make_smic, write_frames

from fsr_cli.data import Problem
from fsr_cli.data.smic import find_hs, read
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
