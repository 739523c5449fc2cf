"""Files fsr needs at run time that ship inside installed packages (nothing is downloaded)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fsr_cli.errors import FsrError

LANDMARKS_68 = "shape_predictor_68_face_landmarks.dat"
CNN_DETECTOR = "mmod_human_face_detector.dat"


def face_model_path(name: str) -> Path:
    """Path of a model file shipped by face-recognition-models.

    Its `__init__` imports pkg_resources, which current setuptools lacks, so the package is
    located without importing it.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FsrError("face-recognition-models is not installed; run `pip install face-recognition-models`")
    for loc in spec.submodule_search_locations:
        path = Path(loc) / "models" / name
        if path.is_file():
            return path
    raise FsrError(f"{name} not found in face-recognition-models ({list(spec.submodule_search_locations)})")
