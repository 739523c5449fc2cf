import pytest
from dataset_builders import CASME2_HEADER, MMEW_HEADER, make_smic, write_xlsx

from fsr_cli.data import KINDS, detect_kind, read_dataset
from fsr_cli.errors import UsageError


def test_kinds():
    assert KINDS == ("casme2", "samm", "smic", "casme3", "mmew")


@pytest.mark.parametrize(
    "marker, kind",
    [
        ("CASME2-coding-20140508.xlsx", "casme2"),
        ("CASME2-coding-2019.xlsx", "casme2"),
        ("SAMM_Micro_FACS_Codes_v2.xlsx", "samm"),
        ("cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx", "casme3"),
        ("annotation/cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx", "casme3"),
        ("MMEW_Micro_Exp.xlsx", "mmew"),
    ],
)
def test_detect_by_annotation_file(tmp_path, marker, kind):
    write_xlsx(tmp_path / marker, [["Subject"]])
    assert detect_kind(tmp_path) == kind


def test_detect_smic_at_each_level(tmp_path):
    make_smic(tmp_path, {("s1", "negative", "s1_ne_01"): range(3)})
    for root in (tmp_path, tmp_path / "SMIC_all_raw", tmp_path / "SMIC_all_raw/HS"):
        assert detect_kind(root) == "smic"


def test_unknown_missing_and_ambiguous_folders(tmp_path):
    with pytest.raises(UsageError) as err:
        detect_kind(tmp_path / "nope")
    assert str(err.value) == f"{tmp_path / 'nope'}: no such folder"
    with pytest.raises(UsageError) as err:
        detect_kind(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: not a known dataset layout; looked for CASME2-coding-*.xlsx (casme2); "
        "SAMM_Micro_FACS_Codes*.xlsx (samm); SMIC_all_raw/HS/ or HS/ or s1/micro/ or "
        "[HS_long/]SMIC-HS-E_annotation.xlsx (smic); "
        "cas(me)3_part_A_ME_label_JpgIndex*.xlsx (casme3); MMEW_Micro_Exp*.xlsx (mmew). "
        "Pass --dataset KIND if it is one"
    )
    write_xlsx(tmp_path / "CASME2-coding-20140508.xlsx", [CASME2_HEADER])
    write_xlsx(tmp_path / "MMEW_Micro_Exp.xlsx", [MMEW_HEADER])
    with pytest.raises(UsageError) as err:
        detect_kind(tmp_path)
    assert str(err.value) == f"{tmp_path}: looks like several datasets (casme2, mmew); pass --dataset KIND"


def test_read_dataset_checks_kind_and_folder(tmp_path):
    with pytest.raises(UsageError) as err:
        read_dataset(tmp_path, "casme")
    assert (
        str(err.value)
        == "unknown dataset kind 'casme'; choose one of: auto, casme2, samm, smic, casme3, mmew"
    )
    with pytest.raises(UsageError, match="no such folder"):
        read_dataset(tmp_path / "nope", "casme2")
    make_smic(tmp_path, {("s1", "positive", "s1_po_01"): range(3)})
    assert read_dataset(tmp_path, "smic").dataset == "smic"
