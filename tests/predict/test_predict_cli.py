"""`fsr predict` end to end on real synthesised mp4 clips, and its bad inputs."""

import csv
import json
import os

import numpy as np
import pytest
import yaml

from fsr_cli.cli.app import main
from fsr_cli.predict.video import read_clip

CLASSES = ["negative", "positive", "surprise"]
TIMINGS = {"load", "detect", "align", "spot", "flow", "model"}


def check_result(doc: dict, truth) -> None:
    assert doc["label"] in CLASSES
    assert list(doc["probabilities"]) == CLASSES
    assert sum(doc["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert doc["label"] == max(doc["probabilities"], key=doc["probabilities"].get)
    assert doc["onset"] == {"frame": 0, "index": 0, "time_s": 0.0, "source": "first frame"}
    apex = doc["apex"]
    assert apex["source"] == "spotted"
    assert abs(apex["frame"] - truth.apex) <= 4, (apex, truth)  # 20 ms at 200 fps
    assert apex["time_s"] == pytest.approx(apex["frame"] / 200.0)
    assert doc["fps"] == 200.0 and doc["fps_source"] == "video"
    left, top, right, bottom = doc["face"]["box"]
    assert 0 <= left < right <= 640 and 0 <= top < bottom <= 480 and right - left > 100
    assert set(doc["timings"]) == TIMINGS and doc["elapsed_s"] >= sum(doc["timings"].values()) - 1e-3


def test_predict_json_on_synthesised_mp4s_with_csv(world, fsr, tmp_path):
    table = tmp_path / "results.csv"
    r = fsr("predict", *world.videos, "--run", world.run, "--json", "--csv", table)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # stdout is exactly one JSON document
    assert doc["summary"] == {"ok": 2, "failed": 0}
    assert doc["model"] == "final" and doc["model_files"] == [str(world.run / "final" / "model.pt")]
    for clip, result in zip(world.videos, doc["clips"], strict=True):
        assert result["clip"] == str(clip)
        check_result(result, world.truth[clip.stem])
    rows = list(csv.DictReader(table.open()))
    assert [row["clip"] for row in rows] == [str(v) for v in world.videos]
    for row, result in zip(rows, doc["clips"], strict=True):
        assert row["status"] == "ok" and row["label"] == result["label"]
        assert float(row["p_surprise"]) == pytest.approx(result["probabilities"]["surprise"], abs=1e-6)
        assert int(row["apex_frame"]) == result["apex"]["frame"]
        box = [int(row[f"face_{k}"]) for k in ("left", "top", "right", "bottom")]
        assert box == result["face"]["box"]
    assert "fsr predict — final" in r.stderr and "sub01_01.mp4" in r.stderr


def test_one_clip_is_one_document_and_onset_apex_are_honoured(world, fsr):
    clip = world.videos[0]
    truth = world.truth[clip.stem]
    r = fsr("predict", clip, "--run", world.run, "--onset", truth.onset, "--apex", truth.apex, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"label", "probabilities", "onset", "apex", "face", "timings", "model"} <= set(doc)
    for key, frame in (("onset", truth.onset), ("apex", truth.apex)):
        assert doc[key] == {"frame": frame, "index": frame, "time_s": frame / 200, "source": "given"}
    assert sum(doc["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


@pytest.fixture
def cli(capsys, monkeypatch):
    """`fsr ARGS...` in this process: (exit code, stdout, stderr lines).

    The command sets torch's thread count and an environment variable for its process; both
    are put back so that tests of other areas run as they would alone.
    """
    import torch

    threads = torch.get_num_threads()
    monkeypatch.setenv("OPENCV_FFMPEG_LOGLEVEL", "-8")

    def run(*args):
        try:
            with pytest.raises(SystemExit) as exc:
                main([str(a) for a in args])
        finally:
            torch.set_num_threads(threads)
        out, err = capsys.readouterr()
        return exc.value.code, out, err.strip().splitlines()

    return run


def test_no_face_and_unreadable_video_are_one_line_exit_1(world, cli):
    code, out, err = cli("predict", world.blank, "--run", world.run)
    assert (code, out, err) == (1, "", [f"error: {world.blank}: no face found in frame 0"])
    code, out, err = cli("predict", world.broken, "--run", world.run)
    assert (code, out, err) == (1, "", [f"error: {world.broken}: OpenCV cannot open this video"])


def test_several_clips_report_failures_and_exit_3(world, cli):
    code, out, err = cli("predict", world.blank, world.videos[0], "--run", world.ensemble, "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc["summary"] == {"ok": 1, "failed": 1} and doc["model"] == "ensemble of 2 fold models"
    assert doc["clips"][0] == {"clip": str(world.blank), "error": f"{world.blank}: no face found in frame 0"}
    assert doc["clips"][1]["label"] in CLASSES
    assert f"failed: {world.blank}: no face found in frame 0" in err
    assert any("final/model.pt is missing" in w for w in doc["warnings"])  # a --final run without it
    assert any(line.startswith("warning:") and "final/model.pt is missing" in line for line in err)
    code, out, _ = cli("predict", world.blank, world.broken, "--run", world.run)
    assert code == 1  # all failed


def test_bad_runs_and_arguments(world, cli, tmp_path):
    clip = world.videos[0]
    missing = tmp_path / "nope"
    assert cli("predict", clip, "--run", missing)[::2] == (
        2,
        [f"error: {missing}: no such run folder; give a folder made by `fsr train`"],
    )
    assert cli("predict", clip, "--run", tmp_path)[::2] == (
        2,
        [f"error: {tmp_path}: not a training run (no config.yaml); give a folder made by `fsr train`"],
    )
    old = tmp_path / "old"
    old.mkdir()
    doc = yaml.safe_load((world.run / "config.yaml").read_text())
    (old / "config.yaml").write_text(yaml.safe_dump({**doc, "version": 99}))
    assert cli("predict", clip, "--run", old)[::2] == (
        1,
        [
            f"error: {old / 'config.yaml'}: run format 'fsr-run' v99 is not fsr-run v1; "
            "train it again with this fsr version"
        ],
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.yaml").write_text(yaml.safe_dump(doc))
    assert cli("predict", clip, "--run", empty)[::2] == (
        1,
        [
            f"error: {empty}: no trained model (no final/model.pt, no folds/*/model.pt); "
            f"finish the run with `fsr train --resume {empty}`"
        ],
    )
    assert cli("predict", clip)[::2] == (2, ["error: give exactly one of --run RUN or --checkpoint FILE"])
    assert cli("predict", tmp_path / "x.mp4", "--run", world.run)[::2] == (
        2,
        [f"error: {tmp_path / 'x.mp4'}: no such file or folder; give a video or a folder of frames"],
    )
    last = len(read_clip(clip).frames) - 1
    assert cli("predict", clip, "--run", world.run, "--apex", 999)[::2] == (
        2,
        [f"error: {clip}: --apex 999 is not a frame of this clip (frames 0..{last})"],
    )
    assert cli("predict", clip, "--run", world.run, "--onset", 9, "--apex", 9)[::2] == (
        2,
        [f"error: {clip}: --apex 9 must come after the onset (frame 9)"],
    )


def test_the_table_marks_a_spotted_apex_only_when_one_was_spotted(world, cli):
    clip = world.videos[0]
    truth = world.truth[clip.stem]
    code, _, err = cli("predict", clip, "--run", world.run, "--apex", truth.apex)
    assert code == 0 and not any("spotted apex" in line for line in err)
    assert any("models loaded once" in line for line in err)
    code, _, err = cli("predict", clip, "--run", world.run)
    assert code == 0 and any("* spotted apex" in line for line in err)


def test_csv_never_replaces_an_input_a_folder_or_a_file_fsr_did_not_write(world, cli, tmp_path):
    # issue 29 item 4: `--csv clips/*.mp4` gave --csv the first clip, which became a CSV
    clip, other = world.videos[0], world.videos[1]
    before = other.read_bytes()
    code, _, err = cli("predict", clip, "--run", world.run, "--csv", other, clip)
    assert code == 2 and "exists and is not a results table fsr wrote" in err[0]
    code, _, err = cli("predict", clip, other, "--run", world.run, "--csv", other)
    assert code == 2 and err == [
        f"error: --csv {other} is one of the clips to predict; give a new file, e.g. --csv results.csv"
    ]
    assert other.read_bytes() == before
    code, _, err = cli("predict", clip, "--run", world.run, "--csv", tmp_path)
    assert code == 2 and "is a folder" in err[0]
    table = tmp_path / "r.csv"
    assert cli("predict", clip, "--run", world.run, "--csv", table)[0] == 0
    assert cli("predict", clip, "--run", world.run, "--csv", table)[0] == 0  # its own table is replaced
    assert table.read_text().startswith("clip,status,label,") and os.listdir(tmp_path) == ["r.csv"]


def test_a_non_finite_fps_and_tiny_frames_are_one_line_errors(world, cli, tmp_path):
    # issue 29 item 19: OverflowError for --fps inf; dlib's multi-line assertion for 1x1 frames
    code, _, err = cli("predict", world.videos[0], "--run", world.run, "--fps", "inf")
    assert (code, err) == (2, ["error: --fps inf is not a frame rate; give one between 1 and 10000"])
    import cv2

    tiny = tmp_path / "tiny"
    tiny.mkdir()
    for i in range(3):
        cv2.imwrite(str(tiny / f"img{i}.png"), np.zeros((1, 1), np.uint8))
    code, _, err = cli("predict", tiny, "--run", world.run)
    assert (code, err) == (
        1,
        [f"error: {tiny}: frames are 1x1 pixels, too small to hold a face (at least 32)"],
    )


def test_spot_classifies_every_spotted_interval_of_a_long_video(world, fsr, tmp_path):
    from fsr_cli.spot.megc import read_truth

    out = tmp_path / "long"
    r = fsr("synth", out, "--layout", "long", "--subjects", "1", "--clips", "1", "--seconds", "14",
            "--fps", "30", "--size", "480", "--seed", "5")  # fmt: skip
    assert r.returncode == 0, r.stderr
    video = next((out / "long_videos").rglob("*.mp4"))
    truth = [t for t in read_truth(out / "fsr_spot_truth.csv") if t["type"] == "micro"]
    r = fsr(
        "predict", video, world.blank, "--spot", "--run", world.run, "--json", "--csv", tmp_path / "l.csv"
    )
    assert r.returncode == 3, r.stderr  # the blank video fails, the long one is labelled
    long_doc, blank_doc = json.loads(r.stdout)["results"]
    assert "8 frames, shorter than the 15 a micro-expression needs at 25 fps" in blank_doc["error"]
    intervals = long_doc["spot"]["intervals"]
    assert len(intervals) >= 1 and long_doc["labelled"] == len(intervals)
    for iv in intervals:
        assert iv["label"] in CLASSES and sum(iv["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert any(t["onset"] - 3 <= iv["apex"] <= t["offset"] + 3 for t in truth), (iv, truth)
    rows = list(csv.DictReader(open(tmp_path / "l.csv")))
    assert [r["label"] for r in rows if r["status"] == "spotted"] == [iv["label"] for iv in intervals]
    assert [r["status"] for r in rows][-1] == "failed"
    r = fsr("predict", video, "--spot", "--onset", "3", "--run", world.run)
    assert r.returncode == 2 and "give --spot or --onset/--apex, not both" in r.stderr


def test_a_corrupt_tail_is_read_as_far_as_it_decodes_and_reported(world, fsr, tmp_path, cut_avi):
    r = fsr("predict", cut_avi(world.videos[0], tmp_path, keep=0.7), "--run", world.run, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    q = doc["quality"]
    assert (
        q["truncated"] and q["decoded_frames"] < q["stated_frames"] and doc["frames"] == q["decoded_frames"]
    )
    assert "decoding stopped at frame" in r.stderr and doc["label"] in CLASSES
    whole = json.loads(fsr("predict", world.videos[0], "--run", world.run, "--json").stdout)
    assert "truncated" not in whole["quality"] and whole["quality"]["decoded_frames"] == whole["frames"]
