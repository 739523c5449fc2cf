"""Native libraries' and matplotlib's noise stays off stderr (fsr_cli/native.py)."""

import warnings

import cv2
import numpy as np

from fsr_cli.native import pyplot, quiet_fd2
from fsr_cli.predict.video import read_clip


def _jpeg_with_extraneous_bytes(path):
    img = np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8)
    data = bytearray(cv2.imencode(".jpg", img)[1].tobytes())
    at = data.find(b"\xff\xda")  # start of scan
    data[at:at] = b"\x00\x00\x00"  # libjpeg: 'Corrupt JPEG data: 3 extraneous bytes before marker 0xda'
    path.write_bytes(bytes(data))


def test_libjpeg_warnings_are_captured_not_printed(tmp_path, capfd):
    for i in range(2):
        _jpeg_with_extraneous_bytes(tmp_path / f"img{i}.jpg")
    with quiet_fd2() as lines:
        assert cv2.imread(str(tmp_path / "img0.jpg"), cv2.IMREAD_GRAYSCALE).shape == (64, 64)
    assert any("Corrupt JPEG data" in line for line in lines)
    clip = read_clip(tmp_path)  # predict's frame folders
    assert len(clip.frames) == 2
    assert "Corrupt JPEG data" not in capfd.readouterr().err
    cv2.imread(str(tmp_path / "img0.jpg"))  # without it, the line does reach stderr
    assert "Corrupt JPEG data" in capfd.readouterr().err


def _draw(plt, path):
    fig, ax = plt.subplots()
    ax.set_title("sub01 微表情 EP02")
    fig.savefig(path)
    plt.close(fig)


def test_a_name_the_font_lacks_draws_without_warnings(tmp_path):
    import matplotlib.pyplot as plain

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _draw(plain, tmp_path / "plain.png")
    assert any("missing from" in str(w.message) for w in seen)  # matplotlib alone warns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _draw(pyplot(), tmp_path / "t.png")  # would raise on any warning
    assert (tmp_path / "t.png").stat().st_size > 0
