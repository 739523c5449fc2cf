"""atomic_write: the old file or the whole new one, and on a full disk a one-line error and no temporary."""

import os

import pytest

from fsr_cli.errors import FsrError
from fsr_cli.files import atomic_write


def test_a_write_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "a" / "model.pt"
    atomic_write(path, lambda tmp: tmp.write_text("one"))
    atomic_write(path, lambda tmp: tmp.write_text("two"))
    assert path.read_text() == "two" and os.listdir(path.parent) == ["model.pt"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device that is always full)")
def test_a_full_disk_names_the_file_keeps_the_old_one_and_removes_the_temporary(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("old")

    def write(tmp):
        tmp.write_text("partial")
        with open("/dev/full", "wb") as f:  # the kernel answers ENOSPC, as a full disk does
            f.write(b"x" * 65536)
            f.flush()

    with pytest.raises(FsrError) as err:
        atomic_write(path, write)
    assert (
        str(err.value)
        == f"{path}: could not be written (No space left on device); free some disk space and run again"
    )
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["history.csv"]
