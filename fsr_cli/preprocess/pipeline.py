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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from fsr_cli.cache import Cache, Entry, make_key
from fsr_cli.data.frames import size_mismatch
from fsr_cli.data.sample import Sample
from fsr_cli.errors import SampleError
from fsr_cli.prepared import FLOW_STAGE, PreparedSample
from fsr_cli.preprocess import align, face, flow, footage
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


FrameSource = Callable[[], Iterable[np.ndarray]]  # each call: a fresh pass over the clip's frames


# A clip whose face regions fit in this many bytes is kept from the first pass for the second
# (a dataset clip, seconds of HD or 4K video); a longer one is decoded again instead.
KEEP_BYTES = 256 * 2**20


class FrameRangeError(SampleError):
    """An onset, apex or offset index outside the frames the clip turned out to have."""

    def __init__(self, message: str, n_frames: int):
        super().__init__(message)
        self.n_frames = n_frames


def prepare_clip(
    frames: Sequence[np.ndarray] | FrameSource,
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

    The frames are read in two passes: the first finds the face on the onset and tracks the
    rigid drift (landmarks of every frame), the second warps each frame into the aligned crop.
    The first pass's grey frames are kept for the second while they fit KEEP_BYTES; a longer
    clip is decoded again, so that only the crops (T x size x size bytes) stay: a minute of
    640x480 video at 200 fps needs about 200 MB, not 3.7 GB.

    Args:
        frames: the clip, grey or BGR uint8, in time order: a sequence, or a callable giving a
            fresh iterator over them on each call (a video decoded as it streams).
        onset, apex, offset: indices into the frames (onset default 0, offset default the last
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
         'faces': faces on the onset frame, 'iod_px': inter-ocular distance on the onset (pixels
         of the footage), 'track_residual_px': the stable landmarks' largest spread about their
         shared shift, 'shot_cuts' and 'blink_frames': frame indices from the onset,
         'n_frames': frames read (up to the offset), 'timings': {stage: seconds, 'load': decoding}}

    Raises:
        SampleError: no face on the onset frame, indices out of order or outside the clip, or
            frames that changed between the passes.
    """
    hook = on_stage or (lambda stage: None)
    source = frames if callable(frames) else (lambda: frames)
    onset = 0 if onset is None else onset
    if offset is not None and not onset <= offset:
        raise SampleError(f"onset {onset} > offset {offset}")
    timings: dict[str, float] = {"load": 0.0, "face": 0.0, "align": 0.0}
    read = [0]  # frames the last pass decoded (from the clip's first)

    def clip_frames():
        """Grey frames onset..offset, the decoding timed as 'load'."""
        it, read[0] = iter(source()), 0
        while offset is None or read[0] <= offset:
            t = time.perf_counter()
            frame = next(it, None)
            timings["load"] += time.perf_counter() - t
            if frame is None:
                return
            read[0] += 1
            if read[0] > onset:
                yield to_grey(frame)

    tracker, shifts = None, []
    # Pass 1 keeps each frame's face region (keep) while they fit KEEP_BYTES; pass 2 warps from
    # them, pasted into a frame-sized canvas at their place, which gives the very crops a
    # warp of the whole frame gives (checked: every warp reads inside the regions).
    kept: list[np.ndarray] | None = []
    keep = shape = thumb = None
    cuts = []  # frames (from the onset) that differ from the one before as only a shot cut does
    for grey in clip_frames():
        small = footage.thumb(grey)
        if (
            thumb is not None
            and small.shape == thumb.shape
            and np.abs(small - thumb).mean() > footage.CUT_GREY
        ):
            cuts.append(len(shifts))
        thumb = small
        t = time.perf_counter()
        if tracker is None:
            name = names[onset] if names else f"frame {onset}"
            boxes, detector = face.detect_faces(grey, name=name)
            box = face.largest(boxes)
            points = face.landmarks(grey, box)
            tracker = align.DriftTracker(box, points)
            shifts.append(np.zeros(2))
            shape = grey.shape[:2]
            keep = footage.keep_box(align.alignment_matrix(points, size=size), size, shape)
            timings["face"] = time.perf_counter() - t
            hook("face")
        else:
            shifts.append(tracker.add(grey).copy() if remove_drift else np.zeros(2))
            timings["align"] += time.perf_counter() - t
        region = grey[keep[1] : keep[3], keep[0] : keep[2]]
        if kept is not None and (len(kept) + 1) * region.nbytes <= KEEP_BYTES:
            kept.append(region.copy())
        else:
            kept = None  # too long to keep: the second pass decodes again
    n, total = len(shifts), read[0]
    last = onset + n - 1
    if n == 0 or (offset is not None and last < offset):
        shown = offset if offset is not None else onset
        raise FrameRangeError(f"onset {onset} / offset {shown} outside the clip's {total} frames", total)
    if apex is not None and not onset <= apex <= last:
        raise FrameRangeError(f"apex {apex} outside onset..offset {onset}..{last}", total)

    t, loaded = time.perf_counter(), timings["load"]
    shifts = np.stack(shifts) if remove_drift else None
    _, _, drift_px, mats = align.clip_warps(points, shifts, n=n, onset_index=0, size=size, fps=fps)
    crops = np.empty((n, size, size), np.uint8)
    if kept is not None and not footage.inside(keep, mats, size, shape):
        kept = None  # the head went beyond the kept regions: decode again
    if kept is not None:
        canvas = np.zeros(shape, np.uint8)

        def regions():
            for r in kept:
                canvas[keep[1] : keep[3], keep[0] : keep[2]] = r
                yield canvas

    k = -1
    for k, grey in enumerate(regions() if kept is not None else clip_frames()):
        if k >= n:
            break
        crops[k] = align.warp(grey, mats[k], size=size)
    if k + 1 != n:
        raise SampleError(f"the clip gave {k + 1} frames on its second reading, {n} on its first")
    timings["align"] += time.perf_counter() - t - (timings["load"] - loaded)  # decoding is 'load'
    hook("align")
    t2 = time.perf_counter()

    curve = None
    if apex is None:
        rel, curve = apex_stage.spot_apex(crops, onset_index=0, fps=fps)
        apex_index, source_kind = onset + rel, "spotted"
    else:
        apex_index, source_kind = apex, "annotated"
    t3 = time.perf_counter()
    timings["apex"] = t3 - t2
    hook("apex")

    onset_img, apex_img = crops[0], crops[apex_index - onset]
    motion = flow.flow_and_strain(onset_img, apex_img)  # (3, S, S)
    timings["flow"] = time.perf_counter() - t3
    hook("flow")
    return {
        "flow": motion,
        "onset": onset_img.copy(),
        "apex": apex_img.copy(),
        "apex_index": apex_index,
        "apex_source": source_kind,
        "box": box.as_list(),
        "detector": detector,
        "drift_px": drift_px,
        "curve": curve,
        # what the quality gate of `fsr predict` reads (predict/quality.py)
        "faces": len(boxes),
        "iod_px": float(np.linalg.norm(points[36:42].mean(0) - points[42:48].mean(0))),
        "track_residual_px": tracker.residual if remove_drift else 0.0,
        "shot_cuts": cuts,
        "blink_frames": footage.blink_frames(crops),
        "n_frames": total,
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
        if frames and (why := size_mismatch(path, img.shape, sample.frames[0], frames[0].shape)):
            raise SampleError(why)
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
