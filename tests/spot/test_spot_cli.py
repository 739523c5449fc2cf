"""`fsr spot` end to end on a synthesised long video (real dlib, real DIS flow, a real mp4), and
`fsr synth --layout long`'s events and truth."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fsr_cli.errors import UsageError
from fsr_cli.spot import megc
from fsr_cli.synth import check_request
from fsr_cli.synth.long import CLEAR_S, plan_long

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-video" / "short_hamilton_clip.mp4"


def fsr(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    out = tmp_path_factory.mktemp("long") / "synth"
    r = fsr("synth", str(out), "--layout", "long", "--subjects", "1", "--clips", "1", "--seconds", "24",
            "--fps", "30", "--size", "480", "--seed", "5", "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out, Path(json.loads(r.stdout)["ground_truth"])


def test_spot_finds_the_micro_expressions_and_not_the_distractors(long_video, tmp_path):
    out, truth = long_video
    video = next((out / "long_videos").rglob("*.mp4"))
    r = fsr("spot", str(video), "--truth", str(truth), "--csv", str(tmp_path / "s.csv"),
            "--plot", str(tmp_path / "plots"), "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    e = doc["evaluation"]
    rows = megc.read_truth(truth)
    assert e["true"] == sum(x["type"] == "micro" for x in rows) >= 3
    assert e["f1"] >= 0.75 and e["on_macro"] == 0, e
    one = doc["videos"][0]
    assert one["quality"]["frames_with_face"] == 1.0 and one["quality"]["max_faces"] == 1
    assert all(iv["onset"] <= iv["apex"] <= iv["offset"] for iv in one["intervals"])
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].startswith("video,status,onset,apex,offset,") and len(lines) == 1 + len(one["intervals"])
    assert (tmp_path / "plots" / f"{video.stem}.png").read_bytes()[:4] == b"\x89PNG"
    assert "MEGC (IoU >= 0.5)" in r.stderr
    # the table fsr wrote may be replaced; a file it did not write may not
    (tmp_path / "mine.csv").write_text("name,value\n")
    r = fsr("spot", str(video), "--csv", str(tmp_path / "mine.csv"))
    assert r.returncode == 2 and "is not a results table fsr wrote" in r.stderr
    assert (tmp_path / "mine.csv").read_text() == "name,value\n"


def test_a_folder_of_frames_is_counted_by_its_file_numbers(long_video, tmp_path):
    """As the releases' sheets count frames (CAS(ME)^2 rawpic img1.jpg...): numbers, not indices."""
    import cv2

    out, truth = long_video
    cap = cv2.VideoCapture(str(next((out / "long_videos").rglob("*.mp4"))))
    folder = tmp_path / "01_01"
    folder.mkdir()
    k = 0
    while (got := cap.read())[0] and k < 400:
        k += 1
        cv2.imwrite(str(folder / f"img{k}.jpg"), got[1])
    shifted = tmp_path / "truth.csv"
    rows = [r for r in megc.read_truth(truth) if r["offset"] < 399]
    megc.write_truth(
        shifted,
        [r | {"onset": r["onset"] + 1, "apex": r["apex"] + 1, "offset": r["offset"] + 1} for r in rows],
    )
    r = fsr("spot", str(folder), "--fps", "30", "--truth", str(shifted), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["evaluation"]["true"] >= 1 and doc["evaluation"]["f1"] >= 0.66, doc["evaluation"]
    iv = doc["videos"][0]["intervals"][0]
    assert iv["apex_s"] == pytest.approx((iv["apex"] - 1) / 30, abs=1e-3)  # img1.jpg is at 0 s
    r = fsr("spot", str(folder))
    assert r.returncode == 1 and "no frame rate; give --fps" in r.stderr


def test_unreadable_and_faceless_videos_are_reported_and_the_others_finish(long_video, tmp_path):
    import cv2

    out, _ = long_video
    video = next((out / "long_videos").rglob("*.mp4"))
    blank = tmp_path / "blank.mp4"
    w = cv2.VideoWriter(str(blank), cv2.VideoWriter_fourcc(*"mp4v"), 30, (160, 120))
    for _ in range(60):
        w.write(np.full((120, 160, 3), 90, np.uint8))
    w.release()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    r = fsr("spot", str(blank), str(broken), str(video), "--json")
    assert r.returncode == 3, r.stderr
    docs = {Path(v["video"]).name: v for v in json.loads(r.stdout)["videos"]}
    assert "a face was held in 0% of the frames" in docs["blank.mp4"]["error"]
    assert "OpenCV cannot open this video" in docs["broken.mp4"]["error"]
    assert "intervals" in docs[video.name]
    r = fsr("spot", str(blank))
    assert r.returncode == 1 and "a face was held in 0%" in r.stderr


def test_a_corrupt_tail_is_spotted_as_far_as_it_decodes_and_said_so(long_video, tmp_path, cut_avi):
    out, _ = long_video
    cut = cut_avi(next((out / "long_videos").rglob("*.mp4")), tmp_path, keep=0.6)
    r = fsr("spot", str(cut), "--json")
    assert r.returncode == 0, r.stderr
    q = json.loads(r.stdout)["videos"][0]["quality"]
    assert q["truncated"] and q["stated_frames"] == 720 and 300 < q["decoded_frames"] < 500
    assert "decoding stopped at frame" in r.stderr and "overread" not in r.stderr


@pytest.mark.skipif(not REAL.is_file(), reason="../shared/data/real-video is absent")
def test_the_in_the_wild_clip_gets_no_intervals_but_a_reason():
    r = fsr("spot", str(REAL), "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)["videos"][0]
    assert "intervals" not in doc and (
        "face was held" in doc["error"] or "the face is too small" in doc["error"]
    )


def test_long_synth_events_are_well_formed():
    events = plan_long(np.random.default_rng(0), seconds=120)
    assert [e.onset for e in events] == sorted(e.onset for e in events)
    micro = [e for e in events if e.kind == "micro"]
    others = [e for e in events if e.kind not in ("micro", "blink")]
    assert len(micro) >= 10 and {"blink", "speech", "macro", "nod", "turn"} <= {e.kind for e in events}
    for m in micro:
        assert 0.15 <= m.offset - m.onset <= 0.5 and m.onset < m.apex < m.offset
        assert all(m.offset + CLEAR_S <= o.onset or o.offset + CLEAR_S <= m.onset for o in others)
    assert all(e.offset - e.onset > 0.5 for e in events if e.kind == "macro")
    with pytest.raises(UsageError, match="--seconds and --fps are for --layout long"):
        check_request(Path("x"), layout="casme2", fps=60.0)
    with pytest.raises(UsageError, match="--fps must be in 25..240"):
        check_request(Path("x"), layout="long", fps=1000.0)
