"""`fsr predict` as a library: a trained run (or one checkpoint) applied to raw clips.

    predictor = load_predictor(run=Path("runs/train/exp"))      # models + dlib loaded once
    result = predict_clip(Path("clip.mp4"), predictor)           # one clip -> a JSON-able dict
    results = predict_clips(paths, predictor)                     # several; failures become records

A clip goes through the same stages as a training sample (`prepare_clip`: face -> align ->
apex -> TV-L1 flow, at the crop size and drift setting the run's data was preprocessed with),
then through the same resize as the training features (`sample_arrays`) and the model.

Onset: the first frame of the clip unless --onset is given. A clip cut around an expression
starts neutral, and every stage measures motion relative to the onset, so the first frame is
as good a reference as the true onset (frames before the expression do not move); spotting an
onset from a motion curve would add an error that the flow then inherits. The apex is spotted
between the onset and the last frame unless --apex is given.

Which model: RUN/final/model.pt (trained on every sample by `fsr train --final`) when the run
has one, else the mean of the softmax of the fold models (fsr_cli.predict.predictor).
"""

from fsr_cli.predict.clips import (
    TIMING_KEYS,
    check_clip_paths,
    frame_numbers,
    model_inputs,
    predict_clip,
    predict_clips,
    prepare_video,
    probabilities,
)
from fsr_cli.predict.predictor import Predictor, load_predictor
from fsr_cli.predict.results import check_csv_target, csv_rows, status, stream_warnings, write_csv

__all__ = [
    "TIMING_KEYS",
    "Predictor",
    "check_clip_paths",
    "check_csv_target",
    "csv_rows",
    "frame_numbers",
    "load_predictor",
    "model_inputs",
    "predict_clip",
    "predict_clips",
    "prepare_video",
    "probabilities",
    "status",
    "stream_warnings",
    "write_csv",
]
