"""Shared inputs: the real astronaut face and clips made from it with known motion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

# dlib's box of the astronaut's face (upsample 1).
ASTRONAUT_BOX = (175, 76, 265, 166)
# Outer brows of the astronaut (pixels): where the synthetic expression raises the skin.
BROWS = ((200.0, 87.0), (252.0, 90.0))


def astronaut_grey() -> np.ndarray:
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)


def brow_raise_clip(
    *, n: int = 30, apex: int = 12, drift=(0.0, 0.0), peak_px: float = 2.0, noise: float = 1.5, seed: int = 0
) -> list[np.ndarray]:
    """Grey frames of the astronaut raising the outer brows (sin^2 rise to `apex`, fall to the end).

    The whole head translates linearly by `drift` pixels over the clip; Gaussian sensor noise.
    """
    grey = astronaut_grey().astype(np.float32)
    h, w = grey.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    bump = sum(np.exp(-(((xs - x) / 10) ** 2 + ((ys - y) / 7) ** 2)) for x, y in BROWS)
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        a = (
            np.sin(np.pi / 2 * t / apex) ** 2
            if t <= apex
            else np.cos(np.pi / 2 * (t - apex) / (n - 1 - apex)) ** 2
        )
        dx, dy = (float(d) * t / (n - 1) for d in drift)
        # content moves up by a * peak at the brows and by (dx, dy) everywhere: backward map
        mx, my = xs - dx, ys - dy + float(a * peak_px) * bump
        f = cv2.remap(
            grey,
            mx.astype(np.float32),
            my.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
        frames.append(np.clip(f + rng.normal(0, noise, f.shape), 0, 255).astype(np.uint8))
    return frames


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return astronaut_grey()


@pytest.fixture(scope="session")
def astronaut_landmarks(astronaut):
    from fsr_cli.preprocess.face import detect_face, landmarks

    box, _ = detect_face(astronaut)
    return box, landmarks(astronaut, box)


@pytest.fixture(scope="session")
def make_brow_clip():
    """brow_raise_clip, for tests that need clips with chosen drift or timing."""
    return brow_raise_clip


@pytest.fixture(scope="session")
def synth_casme2(tmp_path_factory):
    """A synthesised CASME II-layout dataset: 2 subjects x 2 clips, one apex written '/'."""
    from fsr_cli.synth import write_dataset

    return write_dataset(
        tmp_path_factory.mktemp("synth") / "casme2", layout="casme2", subjects=2, clips=2, seed=0
    )
