import pytest
from dataset_builders import write_frames

from fsr_cli.data.frames import (
    check_order,
    clip_frames,
    list_frames,
    number_ranges,
    parse_apex,
    parse_frame,
    parse_subject,
)
from fsr_cli.errors import SampleError


@pytest.mark.parametrize(
    "pattern, number",
    [
        ("img{n}.jpg", 46),
        ("reg_img{n}.jpg", 46),
        ("006_{n:05d}.jpg", 5562),
        ("image{n:06d}.bmp", 59700),
        ("{n}.jpg", 1),
    ],
)
def test_frame_number_is_the_trailing_number_of_every_release(tmp_path, pattern, number):
    write_frames(tmp_path, [number], pattern=pattern)
    (tmp_path / "Thumbs.db").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert list_frames(tmp_path) == {number: tmp_path / pattern.format(n=number)}


def test_missing_folder_lists_nothing(tmp_path):
    assert list_frames(tmp_path / "nope") == {}


def test_clip_frames_keeps_only_the_annotated_range(tmp_path):
    write_frames(tmp_path / "c", range(40, 60))
    numbers, files = clip_frames(tmp_path / "c", 46, 50, root=tmp_path)
    assert numbers == (46, 47, 48, 49, 50)
    assert [f.name for f in files] == ["img46.jpg", "img47.jpg", "img48.jpg", "img49.jpg", "img50.jpg"]


def test_clip_frames_names_each_problem(tmp_path):
    write_frames(tmp_path / "c", [1, 2, 5, 7, 8])
    with pytest.raises(SampleError) as err:
        clip_frames(tmp_path / "c", 1, 9, root=tmp_path)
    assert str(err.value) == "4 missing frame(s) of 1..9 in c: 3-4, 6, 9"
    with pytest.raises(SampleError) as err:
        clip_frames(tmp_path / "c", 20, 30, root=tmp_path)
    assert str(err.value) == "no frames 20..30 in c (frames 1..8 on disk)"
    with pytest.raises(SampleError) as err:
        clip_frames(tmp_path / "d", 1, 2, root=tmp_path)
    assert str(err.value) == "clip folder d not found"


def test_cells_to_numbers():
    assert parse_frame(46, "onset") == parse_frame(46.0, "onset") == parse_frame(" 46 ", "onset") == 46
    assert parse_apex("/") is None and parse_apex(-1) is None and parse_apex(None) is None
    assert parse_apex("120") == 120
    for cell, message in [
        (None, "onset is empty"),
        ("4a", "onset is not a frame number: '4a'"),
        (4.5, "onset is not a frame number: 4.5"),
    ]:
        with pytest.raises(SampleError) as err:
            parse_frame(cell, "onset")
        assert str(err.value) == message


def test_subjects_zero_padded_like_the_folders():
    assert parse_subject("01", width=2) == parse_subject(1, width=2) == parse_subject(1.0, width=2) == "01"
    assert parse_subject("sub05", width=2, prefix="sub") == "05"
    assert parse_subject(6, width=3) == parse_subject("006", width=3) == "006"
    assert parse_subject("spNO.1", width=2) == "spNO.1"


def test_order_check():
    check_order(1, None, 1)
    check_order(1, 1, 3)
    with pytest.raises(SampleError) as err:
        check_order(5, 3, 8)
    assert str(err.value) == "frames out of order: onset 5, apex 3, offset 8 (need onset <= apex <= offset)"
    with pytest.raises(SampleError, match="onset 9, apex None, offset 8"):
        check_order(9, None, 8)


def test_number_ranges():
    assert number_ranges([1, 2, 3, 7, 9, 10]) == "1-3, 7, 9-10"
    assert number_ranges(list(range(0, 20, 2)), limit=3) == "0, 2, 4, ..."
