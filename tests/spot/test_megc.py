"""The MEGC spotting metric and the ground-truth CSV reader."""

import pytest

from fsr_cli.errors import UsageError
from fsr_cli.spot import megc


def test_iou_counts_frames_inclusively():
    assert megc.iou((10, 19), (10, 19)) == 1.0
    assert megc.iou((10, 19), (15, 24)) == pytest.approx(5 / 15)
    assert megc.iou((0, 4), (5, 9)) == 0.0


def test_each_true_interval_is_matched_once_and_macro_hits_are_false_positives():
    truth = [
        {"video": "a", "onset": 100, "offset": 110, "type": "micro"},
        {"video": "a", "onset": 300, "offset": 310, "type": "micro"},
        {"video": "a", "onset": 500, "offset": 560, "type": "macro"},
        {"video": "b", "onset": 50, "offset": 60, "type": "micro"},
    ]
    spotted = {
        "clips/a.mp4": [(101, 110), (100, 108), (505, 555), (700, 705)],  # two on one truth: one hit
        "b.mp4": [],
        "c.mp4": [(1, 5)],  # not in the truth: reported, not scored
    }
    e = megc.evaluate(spotted, truth)
    assert (e["tp"], e["spotted"], e["true"], e["on_macro"]) == (1, 4, 3, 1)
    assert e["precision"] == 0.25 and e["recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert e["f1"] == pytest.approx(2 * 0.25 * (1 / 3) / (0.25 + 1 / 3), abs=1e-4)
    assert {v["video"]: v["scored"] for v in e["videos"]} == {
        "clips/a.mp4": True,
        "b.mp4": True,
        "c.mp4": False,
    }


def test_truth_csv_round_trip_and_bad_rows(tmp_path):
    rows = [
        {
            "subject": "01",
            "video": "01_01",
            "onset": 5,
            "apex": 7,
            "offset": 9,
            "type": "micro",
            "emotion": "x",
        }
    ]
    path = tmp_path / "truth.csv"
    megc.write_truth(path, rows)
    back = megc.read_truth(path)
    assert back[0]["video"] == "01_01" and (back[0]["onset"], back[0]["apex"], back[0]["offset"]) == (5, 7, 9)
    (tmp_path / "no_type.csv").write_text("video,onset,offset\nclip.mp4,3,8\n")
    assert megc.read_truth(tmp_path / "no_type.csv")[0] == {
        "video": "clip", "onset": 3, "offset": 8, "apex": None, "type": "micro"
    }  # fmt: skip
    for text, why in [
        ("clip,onset\nx,1\n", "no column video, offset"),
        ("video,onset,offset\nx,a,3\n", "line 2: onset/apex/offset must be frame numbers"),
        ("video,onset,offset\nx,9,3\n", "line 2: offset 3 precedes onset 9"),
        ("video,onset,offset,type\nx,1,3,blink\n", "line 2: type 'blink' is neither micro nor macro"),
    ]:
        (tmp_path / "bad.csv").write_text(text)
        with pytest.raises(UsageError, match=why):
            megc.read_truth(tmp_path / "bad.csv")
    with pytest.raises(UsageError, match="cannot read the ground truth"):
        megc.read_truth(tmp_path / "missing.csv")
