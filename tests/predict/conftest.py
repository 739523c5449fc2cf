"""A real tiny run, built once per session: synth CASME II -> preprocess -> train (LOSO + --final).

Also the clips to predict on: synthesised mp4 videos with their ground truth, a video without
a face and a file that is not a video at all.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

# The facesleuth-r network made tiny (three SOA stages kept) so that training takes seconds.
TINY = {
    "name": "facesleuth-r-tiny",
    "model": {"motion_widths": [8, 8, 8], "app_dim": 8, "fuse_dim": 16},
    "train": {"epochs": 2, "batch_size": 8},
}


@dataclass(frozen=True)
class World:
    run: Path  # LOSO folds + final model
    ensemble: Path  # the same run without its final model
    casme2: Path  # the synthesised dataset the run was trained on (prepared under .fsr/)
    videos: list[Path]  # synthesised mp4 clips, 640x480 at 200 fps
    truth: dict  # clip name -> TruthRow
    blank: Path  # an mp4 without a face
    broken: Path  # an .mp4 that is not a video


def _blank_mp4(path: Path) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(8):
        writer.write(np.clip(128 + rng.normal(0, 3, (120, 160, 3)), 0, 255).astype(np.uint8))
    writer.release()
    return path


def _train(casme2: Path, base: Path) -> Path:
    from fsr_cli.train.runner import TrainConfig, plan_run, run_training

    preset = base / "tiny.yaml"
    preset.write_text(yaml.safe_dump(TINY))
    cfg = TrainConfig(datasets=(casme2,), protocol="loso", model=str(preset), epochs=2, final=True)
    run = base / "run"
    run.mkdir()
    run_training(plan_run(cfg), run=run, argv=["fsr", "train"])
    return run


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    from fsr_cli.preprocess.batch import prepare_dataset
    from fsr_cli.synth import read_ground_truth, write_dataset

    base = tmp_path_factory.mktemp("predict")
    casme2 = write_dataset(base / "casme2", layout="casme2", subjects=2, clips=3, seed=0)
    report = prepare_dataset(casme2, workers=1)
    assert len(report.ok) == 6, report.summary()
    run = _train(casme2, base)
    ensemble = base / "ensemble"
    shutil.copytree(run, ensemble, ignore=lambda d, names: ["final"] if Path(d) == run else [])
    video = write_dataset(base / "video", layout="video", subjects=1, clips=2, seed=0)
    broken = base / "broken.mp4"
    broken.write_bytes(b"\x00" * 100)
    return World(
        run=run,
        ensemble=ensemble,
        casme2=casme2,
        videos=sorted((video / "clips").glob("*.mp4")),
        truth={r.clip: r for r in read_ground_truth(video)},
        blank=_blank_mp4(base / "blank.mp4"),
        broken=broken,
    )


@pytest.fixture(scope="session")
def fsr():
    """Run `python -m fsr_cli ARGS...` in a subprocess, as a user would."""

    def run(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fsr_cli", *map(str, args)], capture_output=True, text=True
        )

    return run
