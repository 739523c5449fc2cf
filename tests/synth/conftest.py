"""Synthetic datasets written once per test session (each layout at a small size)."""

from pathlib import Path

import pytest

from fsr_cli.synth import write_dataset

# casme2 at its default size: the dataset a new user makes first.
SIZES = {"casme2": (4, 6), "samm": (2, 5), "smic": (2, 6), "video": (2, 2)}


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """layout -> root of a dataset written with seed 0."""
    made: dict[str, Path] = {}

    def get(layout: str) -> Path:
        if layout not in made:
            subjects, clips = SIZES[layout]
            out = tmp_path_factory.mktemp(f"synth-{layout}") / layout
            made[layout] = write_dataset(out, layout=layout, subjects=subjects, clips=clips, seed=0)
        return made[layout]

    return get


def native_frame(root: Path, layout: str, row, number: int) -> Path:
    """The release's own path of one frame, written out independently of the library."""
    if layout == "casme2":
        return root / "CASME2_RAW_selected" / f"sub{row.subject}" / row.clip / f"img{number}.jpg"
    if layout == "samm":
        return root / "SAMM" / row.subject / row.clip / f"{row.subject}_{number:05d}.jpg"
    if layout == "smic":
        return (
            root
            / "SMIC_all_raw"
            / "HS"
            / row.subject
            / "micro"
            / row.emotion
            / row.clip
            / f"image{number:06d}.bmp"
        )
    raise ValueError(layout)


@pytest.fixture(scope="session")
def frame_file():
    return native_frame
