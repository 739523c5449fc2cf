"""A clip through the training pipeline's stages and the model (see fsr_cli.predict)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np

from fsr_cli.errors import FsrError, SampleError, UsageError
from fsr_cli.predict.predictor import Predictor
from fsr_cli.predict.video import VIDEO_SUFFIXES, Clip, frame_clock, read_clip, stream_notes

TIMING_KEYS = ("load", "detect", "align", "spot", "flow", "model")
# prepare_clip's stage timings under the names `fsr predict` reports.
_STAGE_NAMES = {"face": "detect", "align": "align", "apex": "spot", "flow": "flow"}
_TRAILING_NUMBER = re.compile(r"(\d+)$")


def check_clip_paths(paths: list[Path]) -> None:
    """Every CLIP must exist and be a video or a folder; checked before any model is loaded.

    Raises:
        UsageError: naming the first bad path.
    """
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder; give a video or a folder of frames")
        if p.is_file() and p.suffix.lower() not in VIDEO_SUFFIXES:
            kinds = ", ".join(sorted(VIDEO_SUFFIXES))
            raise UsageError(f"{p}: not a video ({kinds}) or a folder of frames")


def frame_numbers(clip: Clip) -> list[int] | None:
    """Frame numbers --onset/--apex refer to: a folder's file-name numbers; None for a video
    (its frames are numbered by their 0-based index, counted as they are decoded).

    In a folder whose file names all end in distinct numbers (img46.jpg, as the datasets
    annotate them) those numbers are used; otherwise the 0-based position in natural order.
    """
    names = clip.names
    if names is None:
        return None
    found = [_TRAILING_NUMBER.search(Path(n).stem) for n in names]
    numbers = [int(m.group(1)) for m in found if m]
    if len(numbers) == len(names) and len(set(numbers)) == len(numbers):
        return numbers
    return list(range(len(names)))


def _index(numbers: list[int] | None, value: int | None, what: str, path: Path) -> int | None:
    if value is None or numbers is None:  # a video: the number is the index
        return value
    try:
        return numbers.index(value)
    except ValueError:
        raise UsageError(
            f"{path}: {what} {value} is not a frame of this clip (frames {numbers[0]}..{numbers[-1]})"
        ) from None


def _resolve_fps(clip: Clip, fps: float | None, predictor: Predictor) -> tuple[float, str]:
    if fps is not None:
        return float(fps), "--fps"
    if clip.fps:
        return float(clip.fps), "video"
    if predictor.fps:
        return float(predictor.fps), "run"
    raise UsageError(f"{clip.path}: a folder of frames has no frame rate; give --fps (e.g. --fps 200)")


def _read(path: Path) -> Clip:
    try:
        return read_clip(path)
    except UsageError as exc:  # the path exists (checked first), so the file itself is unreadable
        raise SampleError(str(exc)) from exc


def _moment(numbers: list[int], index: int, clock, source: str) -> dict:
    """A frame's number, index and time in seconds from the first frame (clock: frame_clock)."""
    return {
        "frame": numbers[index],
        "index": index,
        "time_s": round(float(clock[index]), 4),
        "source": source,
    }


def prepare_video(
    path: Path,
    predictor: Predictor,
    *,
    onset: int | None = None,
    apex: int | None = None,
    fps: float | None = None,
    offset: int | None = None,
) -> dict:
    """Stream a clip through prepare_clip with the predictor's preprocessing settings (offset:
    the last frame read, default the clip's last; a long video's interval stops decoding there).

    The clip is decoded twice, frame by frame (prepare_clip's two passes), never held whole.

    Returns:
        prepare_clip's dict plus "onset_index", "numbers" (frame numbers), "fps", "fps_source",
        "frames" (count), and "load" in its "timings".

    Raises:
        SampleError: unreadable clip or no face. UsageError: bad onset/apex/fps.
    """
    from fsr_cli.preprocess.pipeline import FrameRangeError, prepare_clip

    t0 = time.perf_counter()
    clip = _read(Path(path))
    open_s = time.perf_counter() - t0
    rate, rate_source = _resolve_fps(clip, fps, predictor)
    numbers = frame_numbers(clip)
    i_onset = _index(numbers, onset, "--onset", path)
    i_apex = _index(numbers, apex, "--apex", path)
    i_offset = _index(numbers, offset, "offset", path)
    first = i_onset or 0
    if numbers is not None and first >= len(numbers) - 1:
        raise UsageError(
            f"{path}: no frame after the onset (frame {numbers[first]}); the apex must come later"
        )
    if i_apex is not None and i_apex <= first:
        shown = numbers[first] if numbers is not None else first
        raise UsageError(f"{path}: --apex {apex} must come after the onset (frame {shown})")

    times: list = []  # the last pass's timestamps (a variable frame rate's times)

    def frames():
        times.clear()
        try:
            yield from clip.stream_timed(times)
        except UsageError as exc:  # a frame that cannot be decoded or has another size
            raise SampleError(str(exc)) from exc

    try:
        out = prepare_clip(
            frames,
            onset=i_onset,
            apex=i_apex,
            offset=i_offset,
            size=predictor.crop,
            fps=rate,
            remove_drift=predictor.remove_drift,
            names=clip.names,
        )
    except FrameRangeError as exc:
        if numbers is not None:
            raise SampleError(f"{path}: {exc}") from exc
        # a video's frames are counted as it streams: a given frame past its end shows here
        given, what = (apex, "--apex") if apex is not None and apex >= exc.n_frames else (onset, "--onset")
        raise UsageError(
            f"{path}: {what} {given} is not a frame of this clip (frames 0..{exc.n_frames - 1})"
        ) from None
    except SampleError as exc:
        raise SampleError(f"{path}: {exc}") from exc
    n = out["n_frames"]
    if first >= n - 1:
        raise UsageError(f"{path}: no frame after the onset (frame {first} of {n}); the apex must come later")
    out["timings"]["load"] += open_s
    notes = stream_notes(clip, n, times) if i_offset is None else {}  # read to its end: a short tail shows
    return {
        **out,
        "stream": notes,
        "clock": frame_clock(times, rate),
        "onset_index": first,
        "numbers": numbers if numbers is not None else list(range(n)),
        "fps": rate,
        "fps_source": rate_source,
        "frames": n,
    }


def model_inputs(
    arrays: dict, predictor: Predictor, *, scaled: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Prepared arrays (flow, apex) -> the predictor's raw inputs, resized as training resized them."""
    from fsr_cli.train.features import sample_arrays

    return sample_arrays(arrays, flow_size=predictor.flow_size, app_size=predictor.app_size, scaled=scaled)


def probabilities(predictor: Predictor, arrays: dict, *, scaled: bool = False) -> np.ndarray:
    """Class probabilities (n_classes,) of one prepared sample: the mean softmax of the models."""
    from fsr_cli.train.engine import predict_proba

    flow, app = model_inputs(arrays, predictor, scaled=scaled)
    return predict_proba(list(predictor.models), flow[None], app[None], device=predictor.device)[0]


def predict_clip(
    path: Path,
    predictor: Predictor,
    *,
    onset: int | None = None,
    apex: int | None = None,
    fps: float | None = None,
    force: bool = False,
    offset: int | None = None,
) -> dict:
    """Predict the class of one clip (or of its frames onset..offset).

    Args:
        path: a video file or a folder of frames.
        predictor: from load_predictor.
        onset, apex: frame numbers (see frame_numbers); None = the first frame / spotted.
        fps: frame rate; default the video's, else the run's datasets'.

    Returns:
        {"clip", "label", "probabilities": {class: p}, "onset": {...}, "apex": {...}, "fps",
         "fps_source", "frames", "face": {"box", "detector"}, "drift_px", "model",
         "elapsed_s", "timings": {load, detect, align, spot, flow, model}}; onset/apex hold
        "frame", "index", "time_s" (seconds from the first frame) and "source".

    Raises:
        SampleError: unreadable clip or no face. UsageError: bad onset/apex/fps.
    """
    from fsr_cli.predict.quality import assess

    t0 = time.perf_counter()
    out = prepare_video(path, predictor, onset=onset, apex=apex, fps=fps, offset=offset)
    quality = assess(out, crop=predictor.crop) | out["stream"]  # a short tail, a variable rate: reported
    if not quality["ok"] and not force:
        reason = "; ".join(quality["reasons"])
        return {
            "clip": str(path),
            "label": None,
            "reason": reason,
            "quality": quality,
            "error": f"{path}: no label, the footage cannot be read reliably: {reason} "
            "(--force predicts anyway)",
            "exit_code": 1,
        }
    t1 = time.perf_counter()
    probs = probabilities(predictor, out)  # (n_classes,)
    timings = {_STAGE_NAMES.get(k, k): v for k, v in out["timings"].items()}
    timings["model"] = time.perf_counter() - t1
    numbers, rate = out["numbers"], out["fps"]
    return {
        "clip": str(path),
        "label": predictor.classes[int(np.argmax(probs))],
        "probabilities": {c: round(float(p), 6) for c, p in zip(predictor.classes, probs, strict=True)},
        "onset": _moment(
            numbers, out["onset_index"], out["clock"], "given" if onset is not None else "first frame"
        ),
        "apex": _moment(numbers, out["apex_index"], out["clock"], "given" if apex is not None else "spotted"),
        "fps": rate,
        "fps_source": out["fps_source"],
        "frames": out["frames"],
        "face": {"box": out["box"], "detector": out["detector"]},
        "drift_px": round(float(out["drift_px"]), 3),
        "quality": quality,
        **({"forced": True} if not quality["ok"] else {}),  # a label on footage that failed the gate
        "model": predictor.kind,
        "elapsed_s": round(time.perf_counter() - t0, 4),
        "timings": {k: round(timings.get(k, 0.0), 4) for k in TIMING_KEYS},
    }


def predict_clips(
    paths: list[Path],
    predictor: Predictor,
    *,
    onset: int | None = None,
    apex: int | None = None,
    fps: float | None = None,
    force: bool = False,
    on_done=None,
) -> list[dict]:
    """predict_clip on each path; a clip that fails becomes {"clip", "error", "exit_code"} (one
    the quality gate refuses also holds "label": null, "reason" and "quality").

    on_done(result) is called after each clip (progress bars).
    """
    results = []
    for path in paths:
        try:
            result = predict_clip(path, predictor, onset=onset, apex=apex, fps=fps, force=force)
        except FsrError as exc:
            result = {"clip": str(path), "error": str(exc), "exit_code": exc.exit_code}
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results
