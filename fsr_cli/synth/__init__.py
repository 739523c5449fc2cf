"""Synthetic micro-expression datasets in the releases' native layouts, from one real face photo.

    write_dataset(out, layout="casme2")     a whole dataset + fsr_ground_truth.csv + fsr_synth.json
    read_ground_truth(out)                  its rows (TruthRow)
    make_clip(emotion="surprise", ...)      one clip in memory with its ground truth (Clip)
    make_identity / render_clip / draw_spec the pieces, for finer control

Heavy imports (cv2, dlib, openpyxl) happen inside the functions that need them.
"""

from fsr_cli.synth.dataset import check_request, write_dataset
from fsr_cli.synth.face import Identity, detect_faces, landmarks68, make_identity
from fsr_cli.synth.layouts import LAYOUTS
from fsr_cli.synth.motion import ACTION_UNITS, EMOTION_AUS, dominant_axis_deg, temporal_profile, unit_field
from fsr_cli.synth.render import Clip, ClipSpec, draw_spec, frame_height, iter_frames, make_clip, render_clip
from fsr_cli.synth.truth import (
    GROUND_TRUTH,
    GT_COLUMNS,
    MARKER,
    TruthRow,
    dataset_bytes,
    read_ground_truth,
    read_marker,
)

__all__ = [
    "ACTION_UNITS",
    "EMOTION_AUS",
    "GROUND_TRUTH",
    "GT_COLUMNS",
    "LAYOUTS",
    "MARKER",
    "Clip",
    "ClipSpec",
    "Identity",
    "TruthRow",
    "check_request",
    "dataset_bytes",
    "detect_faces",
    "dominant_axis_deg",
    "draw_spec",
    "frame_height",
    "iter_frames",
    "landmarks68",
    "make_clip",
    "make_identity",
    "read_ground_truth",
    "read_marker",
    "render_clip",
    "temporal_profile",
    "unit_field",
    "write_dataset",
]
