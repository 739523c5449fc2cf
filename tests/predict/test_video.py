import cv2
import numpy as np
import pytest

from fsr_cli.errors import UsageError
from fsr_cli.predict.video import read_clip


def _write_mp4(path, n=12, size=(96, 64), fps=50.0):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert w.isOpened()
    for i in range(n):
        img = np.full((size[1], size[0], 3), 20 * i % 255, np.uint8)
        w.write(img)
    w.release()


def test_reads_mp4_frames_and_fps(tmp_path):
    path = tmp_path / "clip.mp4"
    _write_mp4(path)
    clip = read_clip(path)
    assert len(clip.frames) == 12
    assert clip.frames[0].shape == (64, 96, 3)
    assert clip.fps == pytest.approx(50.0)
    # brightness ramps as written (lossy codec: within a few grey levels)
    assert abs(float(clip.frames[5].mean()) - 100) < 6


def test_a_phone_video_s_rotation_tag_is_honoured():
    """A video stored sideways with a display matrix (tests/predict/assets/README.md) decodes
    upright: the face is found."""
    from pathlib import Path

    from fsr_cli.preprocess.face import detect_faces

    clip = read_clip(Path(__file__).parent / "assets" / "phone_rotated_90.mp4")
    frames = clip.frames
    assert len(frames) == 46 and frames[0].shape == (240, 320, 3)  # stored 320 high, 240 wide
    boxes, _ = detect_faces(cv2.cvtColor(frames[0], cv2.COLOR_BGR2GRAY))
    assert len(boxes) == 1
    sideways = cv2.VideoCapture(str(clip.path))
    sideways.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    assert sideways.read()[1].shape == (320, 240, 3)  # the stored picture: the tag is what turns it


def test_folder_of_frames_in_natural_order_decoded_to_grey(tmp_path):
    for i in (1, 2, 10):
        img = np.zeros((32, 32, 3), np.uint8)
        img[..., 2] = 10 * i  # red only: grey is about 0.3 of it
        cv2.imwrite(str(tmp_path / f"img{i}.png"), img)
    clip = read_clip(tmp_path)
    assert clip.names == ["img1.png", "img2.png", "img10.png"]
    assert [f.shape for f in clip.frames] == [(32, 32)] * 3
    assert [int(f[0, 0]) for f in clip.frames] == [2, 5, 29]
    # the very decoding of preprocess (pipeline._decode)
    for i, frame in zip((1, 2, 10), clip.frames, strict=True):
        data = np.frombuffer((tmp_path / f"img{i}.png").read_bytes(), np.uint8)
        np.testing.assert_array_equal(frame, cv2.imdecode(data, cv2.IMREAD_GRAYSCALE))
    assert clip.fps is None


def test_bad_inputs_name_the_path(tmp_path):
    with pytest.raises(UsageError, match="no such file or folder"):
        read_clip(tmp_path / "missing.mp4")
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    with pytest.raises(UsageError, match="not a video"):
        read_clip(bad)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 100)
    with pytest.raises(UsageError, match="broken.mp4"):
        read_clip(broken)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no image frames"):
        read_clip(empty)


def test_an_interlaced_video_is_read_one_field_per_frame(tmp_path):
    from fsr_cli.predict.video import comb_ratio
    from fsr_cli.synth import make_clip

    frames = [f[..., ::-1] for f in make_clip(emotion="surprise", width=320, fps=50.0, seed=0).frames]
    for name, woven in (("progressive", False), ("interlaced", True)):
        path = tmp_path / f"{name}.mp4"
        w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 50.0, (320, 240))
        for f in frames:
            out = np.ascontiguousarray(f)
            if woven:  # the odd field taken a moment later, the head 4 px further along
                out[1::2] = np.roll(f, 4, axis=1)[1::2]
            w.write(out)
        w.release()
        clip = read_clip(path)
        assert clip.interlaced is woven
        first = clip.frames[0]
        assert first.shape == (240, 320, 3) and comb_ratio(first) < 1.0  # no combing left
