"""Native layouts on disk: names, frame numbers, spreadsheets, video, ground truth, reruns."""

import csv
import re

import cv2
import openpyxl
import pytest

from fsr_cli.data.labels import LABEL_SETS, composite_label
from fsr_cli.errors import UsageError
from fsr_cli.synth import GT_COLUMNS, read_ground_truth, read_marker, write_dataset

LABELS = {
    "casme2": set(LABEL_SETS["casme2-5"]),
    "samm": set(LABEL_SETS["samm-5"]),
    "smic": {"negative", "positive", "surprise"},
    "video": {"happiness", "disgust", "surprise"},
}


def _numbers(folder, pattern):
    return sorted(int(re.fullmatch(pattern, p.name).group(1)) for p in folder.iterdir())


@pytest.mark.parametrize("layout", ["casme2", "samm", "smic", "video"])
def test_ground_truth_file(synth_root, layout):
    root = synth_root(layout)
    with open(root / "fsr_ground_truth.csv", newline="") as f:
        assert tuple(next(csv.reader(f))) == GT_COLUMNS
    rows = read_ground_truth(root)
    marker = read_marker(root)
    assert len(rows) == marker["n_clips"] == marker["params"]["subjects"] * marker["params"]["clips"]
    assert len({r.uid for r in rows}) == len(rows)
    assert {r.emotion for r in rows} <= LABELS[layout]
    for r in rows:
        assert r.dataset == layout and r.onset < r.apex < r.offset and r.angle_deg == 0.0
        assert r.label3 == composite_label(r.emotion)
    assert marker["complete"] is True and marker["format"] == "fsr-synth"


@pytest.mark.parametrize(
    "layout,pattern,shape",
    [
        ("casme2", r"img(\d+)\.jpg", (240, 320, 3)),
        ("samm", r"\d{3}_(\d{5})\.jpg", (240, 320)),  # greyscale
        ("smic", r"image(\d{6})\.bmp", (192, 256, 3)),
    ],
)
def test_frames_cover_onset_to_offset_with_native_names(synth_root, frame_file, layout, pattern, shape):
    root = synth_root(layout)
    fps = read_marker(root)["fps"]
    for r in read_ground_truth(root):
        folder = frame_file(root, layout, r, r.onset).parent
        numbers = _numbers(folder, pattern)
        assert numbers == list(range(numbers[0], numbers[-1] + 1))
        assert numbers[0] <= r.onset and r.offset <= numbers[-1]
        if layout != "samm":  # CASME II and SMIC folders hold onset..offset; SAMM a few frames around
            assert (numbers[0], numbers[-1]) == (r.onset, r.offset)
        assert (r.offset - r.onset) / fps < 0.5
        assert cv2.imread(str(frame_file(root, layout, r, r.apex)), cv2.IMREAD_UNCHANGED).shape == shape
        # Absolute numbering: a clip starts where the recording was, not at 0 or 1.
        assert numbers[0] > 1


def test_casme2_sheet_is_the_release_layout(synth_root):
    root = synth_root("casme2")
    wb = openpyxl.load_workbook(root / "CASME2-coding-20140508.xlsx")
    assert wb.sheetnames == ["Sheet1"]
    rows = list(wb["Sheet1"].iter_rows())
    assert [c.value for c in rows[0]] == [
        "Subject",
        "Filename",
        None,
        "OnsetFrame",
        "ApexFrame",
        "OffsetFrame",
        None,
        "Action Units",
        "Estimated Emotion",
    ]
    truth = read_ground_truth(root)
    assert len(rows) - 1 == len(truth)
    slashes = []
    for cells, t in zip(rows[1:], truth, strict=True):
        v = [c.value for c in cells]
        assert cells[0].data_type == "s" and v[0] == t.subject and re.fullmatch(r"\d\d", v[0])
        assert (v[1], v[3], v[5], v[8]) == (t.clip, t.onset, t.offset, t.emotion)
        assert re.fullmatch(r"EP\d\d_\d\d(f?)", v[1])
        assert v[2] is None and v[6] is None and re.fullmatch(r"R?\d+(\+R?\d+)*", v[7])
        if v[4] == "/":
            slashes.append(f"{t.subject}/{t.clip}")
        else:
            assert v[4] == t.apex
    assert slashes == [read_marker(root)["slash_apex"]]


def test_samm_sheet_is_the_release_layout(synth_root):
    root = synth_root("samm")
    wb = openpyxl.load_workbook(root / "SAMM_Micro_FACS_Codes_v2.xlsx")
    assert wb.sheetnames == ["MICRO_ONLY"]
    values = list(wb["MICRO_ONLY"].iter_rows(values_only=True))
    assert values[0][0].startswith("SAMM") and all(r[0] != "Subject" for r in values[:13])
    assert list(values[13]) == [
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
    ]
    truth = read_ground_truth(root)
    assert len(values) - 14 == len(truth)
    for v, t in zip(values[14:], truth, strict=True):
        assert isinstance(v[0], int) and f"{v[0]:03d}" == t.subject
        assert re.fullmatch(rf"{t.subject}_\d_\d", v[1]) and v[1] == t.clip
        assert (v[3], v[4], v[5], v[6]) == (t.onset, t.apex, t.offset, t.offset - t.onset + 1)
        assert v[9] == v[9].capitalize() and v[9].lower() == t.emotion
        assert (root / "SAMM" / t.subject / t.clip).is_dir()


def test_smic_has_label_folders_and_no_annotation_file(synth_root):
    root = synth_root("smic")
    assert sorted(p.name for p in root.iterdir()) == [
        "SMIC_all_raw",
        "fsr_ground_truth.csv",
        "fsr_synth.json",
    ]
    abbr = {"negative": "ne", "positive": "po", "surprise": "sur"}
    for r in read_ground_truth(root):
        assert re.fullmatch(r"s\d+", r.subject)
        assert re.fullmatch(rf"{r.subject}_{abbr[r.emotion]}_\d\d", r.clip)
    assert read_marker(root)["fps"] == 100.0


def test_video_reads_back_with_opencv(synth_root):
    root = synth_root("video")
    marker = {c["clip"]: c for c in read_marker(root)["clips"]}
    for r in read_ground_truth(root):
        cap = cv2.VideoCapture(str(root / "clips" / f"{r.clip}.mp4"))
        assert cap.isOpened()
        assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(200.0)
        n, shape = 0, None
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            n, shape = n + 1, frame.shape
        cap.release()
        assert n == marker[r.clip]["last"] + 1 and shape == (480, 640, 3)
        assert 10 <= r.onset <= 20 and n - 1 - r.offset >= 10  # neutral frames around the expression


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = write_dataset(tmp_path / "a", layout="casme2", subjects=1, clips=2, seed=7, angle=20.0)
    b = write_dataset(tmp_path / "b", layout="casme2", subjects=1, clips=2, seed=7, angle=20.0)
    c = write_dataset(tmp_path / "c", layout="casme2", subjects=1, clips=2, seed=8, angle=20.0)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.suffix != ".xlsx")
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.suffix != ".xlsx")
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    sheet = [list(openpyxl.load_workbook(r / "CASME2-coding-20140508.xlsx").active.values) for r in (a, b)]
    assert sheet[0] == sheet[1]
    assert (a / "fsr_ground_truth.csv").read_bytes() != (c / "fsr_ground_truth.csv").read_bytes()
    assert {r.angle_deg for r in read_ground_truth(a)} == {20.0}


def test_rerun_replaces_an_earlier_output_and_keeps_a_cache(tmp_path):
    out = tmp_path / "d"
    write_dataset(out, layout="smic", subjects=1, clips=1)
    (out / ".fsr").mkdir()
    write_dataset(out, layout="casme2", subjects=1, clips=1, size=240)
    assert sorted(p.name for p in out.iterdir()) == [
        ".fsr",
        "CASME2-coding-20140508.xlsx",
        "CASME2_RAW_selected",
        "fsr_ground_truth.csv",
        "fsr_synth.json",
    ]
    r = read_ground_truth(out)[0]
    img = cv2.imread(str(out / "CASME2_RAW_selected" / "sub01" / r.clip / f"img{r.apex}.jpg"))
    assert img.shape == (180, 240, 3)


def test_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="is not empty and is not an earlier `fsr synth` output"):
        write_dataset(tmp_path, layout="casme2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"layout": "casme3"}, "unknown layout 'casme3'; choose one of: casme2, samm, smic, video, long"),
        ({"layout": "samm", "subjects": 0}, "--subjects must be between 1 and 99, got 0"),
        ({"layout": "samm", "seed": -1}, "--seed must be 0 or more, got -1"),
        ({"layout": "samm", "clips": 100}, "--clips must be between 1 and 99, got 100"),
        ({"layout": "smic", "size": 99}, "--size must be an even frame width in 224..1280, got 99"),
        ({"layout": "smic", "angle": float("nan")}, "--angle must be a finite number of degrees, got nan"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path, kwargs, message):
    with pytest.raises(UsageError) as e:
        write_dataset(tmp_path / "x", **kwargs)
    assert str(e.value) == message
    assert not (tmp_path / "x").exists()
