"""Imported by the forkserver of batch runs (see batch.py): OpenCV, dlib and the dlib models are
loaded once there, so every worker forked from it starts with them in memory."""

import cv2  # noqa: F401
import dlib  # noqa: F401

from fsr_cli.preprocess import pipeline  # noqa: F401
from fsr_cli.preprocess.face import load_models

load_models()
