"""One clip through the stages: face -> align -> apex -> flow, and one sample through the cache.

`prepare_clip` is the pure part (frames in, arrays out) that `fsr predict` reuses on a video;
`process_sample` adds reading the frames and the `flow` cache entry of a dataset sample.

Cache key of a sample's `flow` entry: stage `flow`, version STAGE_VERSIONS['flow'], params =
the preprocess parameters (crop size, drift removal, every stage's version, the TV-L1 and
spotting constants) plus the sample's annotation (onset, apex, offset, fps), inputs = sha256 of
the bytes of every frame file the sample reads (onset..offset, in order). Content hashes rather
than size + mtime: copying, re-extracting or touching a dataset keeps its cache valid, while
any changed frame invalidates exactly the samples that read it. Each file is read once: the
same bytes are hashed and, on a cache miss only, decoded.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fsr_cli.cache import Cache, Entry, make_key
from fsr_cli.data.sample import Sample
from fsr_cli.errors import SampleError
from fsr_cli.prepared import FLOW_STAGE, PreparedSample
from fsr_cli.preprocess import align, face, flow
from fsr_cli.preprocess import apex as apex_stage

STAGES = ("face", "align", "apex", "flow")
STAGE_VERSIONS = {
    face.STAGE: face.VERSION,
    align.STAGE: align.VERSION,
    apex_stage.STAGE: apex_stage.VERSION,
    flow.STAGE: flow.VERSION,
}

# Called with a stage name each time a clip has passed that stage (progress bars).
StageHook = Callable[[str], None]


@dataclass(frozen=True)
class PreprocessConfig:
    """What `fsr preprocess` computes; every field enters the cache key."""

    size: int = 128
    remove_drift: bool = True

    def params(self) -> dict:
        return {
            "size": self.size,
            "remove_drift": self.remove_drift,
            "stages": STAGE_VERSIONS,
            "template": {"iod": align.TEMPLATE_IOD, "eye_y": align.TEMPLATE_EYE_Y},
            "drift": {
                "stable_points": list(align.STABLE_POINTS),
                "smooth_s": align.SMOOTH_SECONDS,
                "min_px": align.DRIFT_MIN_PX,
            },
            "tvl1": flow.TVL1_PARAMS,
            "spotting": {
                "size": apex_stage.SPOT_SIZE,
                "grid": apex_stage.GRID,
                "top": apex_stage.TOP_FRACTION,
                "smooth_s": apex_stage.SMOOTH_SECONDS,
            },
        }


def to_grey(frame: np.ndarray) -> np.ndarray:
    """A grey uint8 (H, W) image from grey, BGR or BGRA input."""
    import cv2

    if frame.ndim == 2:
        return frame
    code = cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(frame, code)


def _check_range(n: int, onset: int, apex_i: int | None, offset: int) -> None:
    if not 0 <= onset <= offset < n:
        raise SampleError(f"onset {onset} / offset {offset} outside the clip's {n} frames")
    if apex_i is not None and not onset <= apex_i <= offset:
        raise SampleError(f"apex {apex_i} outside onset..offset {onset}..{offset}")


def prepare_clip(
    frames: list[np.ndarray],
    *,
    onset: int | None = None,
    apex: int | None = None,
    offset: int | None = None,
    size: int = 128,
    fps: float,
    remove_drift: bool = True,
    names: list[str] | None = None,
    on_stage: StageHook | None = None,
) -> dict:
    """Run face -> align -> apex -> flow on one clip of raw frames.

    Args:
        frames: the clip, grey or BGR uint8, in time order.
        onset, apex, offset: indices into `frames` (onset default 0, offset default the last
            frame, apex None = spot it between onset and offset).
        size: side of the square aligned crop.
        fps: frame rate (sets the drift and spotting smoothing).
        remove_drift: compensate rigid head drift relative to the onset.
        names: frame names for messages (default 'frame I').
        on_stage: called with each stage name once it is done.

    Returns:
        {'flow': (3, S, S) float32 [u, v, strain], 'onset': (S, S) uint8, 'apex': (S, S) uint8,
         'apex_index': int, 'apex_source': 'annotated' | 'spotted', 'box': [l, t, r, b],
         'detector': 'hog' | 'cnn', 'drift_px': float, 'curve': (T,) spotting curve or None,
         'timings': {stage: seconds}}

    Raises:
        SampleError: no face on the onset frame, or indices out of order.
    """
    hook = on_stage or (lambda stage: None)
    onset = 0 if onset is None else onset
    offset = len(frames) - 1 if offset is None else offset
    _check_range(len(frames), onset, apex, offset)
    clip = [to_grey(f) for f in frames[onset : offset + 1]]
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    name = names[onset] if names else f"frame {onset}"
    box, detector = face.detect_face(clip[0], name=name)
    points = face.landmarks(clip[0], box)
    t1 = time.perf_counter()
    timings["face"] = t1 - t0
    hook("face")

    aligned = align.align_clip(
        clip, box=box, onset_points=points, onset_index=0, size=size, fps=fps, remove_drift=remove_drift
    )
    t2 = time.perf_counter()
    timings["align"] = t2 - t1
    hook("align")

    curve = None
    if apex is None:
        rel, curve = apex_stage.spot_apex(aligned.frames, onset_index=0, fps=fps)
        apex_index, source = onset + rel, "spotted"
    else:
        apex_index, source = apex, "annotated"
    t3 = time.perf_counter()
    timings["apex"] = t3 - t2
    hook("apex")

    onset_img, apex_img = aligned.frames[0], aligned.frames[apex_index - onset]
    motion = flow.flow_and_strain(onset_img, apex_img)  # (3, S, S)
    timings["flow"] = time.perf_counter() - t3
    hook("flow")
    return {
        "flow": motion,
        "onset": onset_img,
        "apex": apex_img,
        "apex_index": apex_index,
        "apex_source": source,
        "box": box.as_list(),
        "detector": detector,
        "drift_px": aligned.drift_px,
        "curve": curve,
        "timings": timings,
    }


def _read_bytes(sample: Sample) -> list[bytes]:
    if not sample.frames:
        raise SampleError("no frames")
    data = []
    for path in sample.frames:
        try:
            data.append(path.read_bytes())
        except OSError as exc:
            raise SampleError(f"missing frame {path} ({exc.strerror})") from exc
    return data


def _decode(data: list[bytes], sample: Sample) -> list[np.ndarray]:
    from fsr_cli.native import quiet_fd2

    with quiet_fd2():  # libjpeg's 'Corrupt JPEG data' lines for frames it still decodes
        return _decode_frames(data, sample)


def _decode_frames(data: list[bytes], sample: Sample) -> list[np.ndarray]:
    import cv2

    frames = []
    for blob, path in zip(data, sample.frames, strict=True):
        if not blob:
            raise SampleError(f"empty frame file {path} (0 bytes)")
        try:
            img = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_GRAYSCALE)
        except cv2.error:
            img = None
        if img is None:
            raise SampleError(f"unreadable image {path}")
        if frames and img.shape != frames[0].shape:
            (h0, w0), (h, w) = frames[0].shape, img.shape
            raise SampleError(
                f"frames of different sizes in {sample.frames[0].parent}: {path.name} is {w}x{h} pixels, "
                f"{sample.frames[0].name} {w0}x{h0}"
            )
        frames.append(img)
    return frames


def _index(sample: Sample, number: int | None, what: str) -> int | None:
    if number is None:
        return None
    try:
        return sample.frame_numbers.index(number)
    except ValueError:
        raise SampleError(f"{what} frame {number} not among the clip's frames") from None


def sample_key_params(sample: Sample, config: PreprocessConfig) -> dict:
    annotation = {"onset": sample.onset, "apex": sample.apex, "offset": sample.offset, "fps": sample.fps}
    return {**config.params(), "annotation": annotation}


def _compute(sample: Sample, data: list[bytes], config: PreprocessConfig, hook: StageHook | None):
    onset, apex, offset = sample.onset, sample.apex, sample.offset
    if onset > offset:
        raise SampleError(f"onset {onset} > offset {offset}")
    if apex is not None and not onset <= apex <= offset:
        raise SampleError(
            f"onset {onset} > apex {apex}" if apex < onset else f"apex {apex} > offset {offset}"
        )
    frames = _decode(data, sample)
    out = prepare_clip(
        frames,
        onset=_index(sample, sample.onset, "onset"),
        apex=_index(sample, sample.apex, "apex"),
        offset=_index(sample, sample.offset, "offset"),
        size=config.size,
        fps=sample.fps,
        remove_drift=config.remove_drift,
        names=[str(p) for p in sample.frames],
        on_stage=hook,
    )
    arrays = {"flow": out["flow"], "onset": out["onset"], "apex": out["apex"]}
    meta = {
        "sample": sample.uid,
        "apex_frame": sample.frame_numbers[out["apex_index"]],
        "apex_source": out["apex_source"],
        "box": out["box"],
        "detector": out["detector"],
        "drift_px": round(out["drift_px"], 3),
        "timings": {k: round(v, 4) for k, v in out["timings"].items()},
    }
    return arrays, meta


def process_sample(
    sample: Sample, *, cache: Cache, config: PreprocessConfig, force: bool = False, on_stage=None
) -> tuple[Entry, bool]:
    """The `flow` cache entry of one sample, computing it on a miss; returns (entry, hit).

    Raises:
        SampleError: a frame is missing or unreadable, no face, onset > apex.
    """
    data = _read_bytes(sample)
    return cache.cached(
        FLOW_STAGE,
        STAGE_VERSIONS["flow"],
        sample_key_params(sample, config),
        _frame_hashes(data),
        lambda: _compute(sample, data, config, on_stage),
        force=force,
    )


def _frame_hashes(data: list[bytes]) -> list[str]:
    """The cache inputs of a sample: sha256 of every frame file read."""
    return [hashlib.sha256(b).hexdigest() for b in data]


def cached_entry(sample: Sample, *, cache: Cache, config: PreprocessConfig) -> Entry | None:
    """The sample's finished `flow` entry, or None (a miss, or frames that cannot be read)."""
    try:
        inputs = _frame_hashes(_read_bytes(sample))
    except SampleError:
        return None
    key = make_key(FLOW_STAGE, STAGE_VERSIONS["flow"], sample_key_params(sample, config), inputs)
    return cache.get(FLOW_STAGE, key)


def prepared_record(sample: Sample, entry: Entry, root) -> PreparedSample:
    """The manifest record of a processed sample (apex and its source read from the entry's meta)."""
    meta = entry.meta
    return PreparedSample(
        dataset=sample.dataset,
        subject=sample.subject,
        clip=sample.clip,
        emotion=sample.emotion,
        label3=sample.label3,
        onset=sample.onset,
        apex=int(meta["apex_frame"]),
        offset=sample.offset,
        apex_source=meta["apex_source"],
        entry=entry.path.relative_to(root).as_posix(),
    )
