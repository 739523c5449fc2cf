"""Preprocessing: face -> align -> apex -> flow, one pure function per stage, cached per sample.

    prepare_clip(frames, onset=, apex=, size=, fps=)   one clip of raw frames -> flow/onset/apex arrays
    prepare_dataset(root, kind=, config=, workers=)    a dataset folder -> cache entries + prepared.json
    import_csv(csv, out, channels=, size=)             precomputed flow images -> a prepared dataset

Heavy imports (cv2, dlib) happen inside the functions that need them.
"""

from fsr_cli.preprocess.batch import DatasetReport, Events, Outcome, default_cache_root, prepare_dataset
from fsr_cli.preprocess.pipeline import STAGE_VERSIONS, STAGES, PreprocessConfig, prepare_clip

__all__ = [
    "STAGES",
    "STAGE_VERSIONS",
    "DatasetReport",
    "Events",
    "Outcome",
    "PreprocessConfig",
    "default_cache_root",
    "prepare_clip",
    "prepare_dataset",
]
