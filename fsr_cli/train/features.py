"""Prepared datasets -> the arrays the model reads (pipeline stage 6, without normalisation).

The flow (u, v, strain) is resized to the model's `flow_size` with cv2.INTER_AREA, one channel
at a time (cv2 resizes the channels of an (H, W, 3) array independently). u and v are
displacements in pixels of the source grid, so they are multiplied by the resize factor
(u by new_w / old_w, v by new_h / old_h) and stay displacements in pixels of the new grid.
Optical strain is a ratio of displacements to distances (du/dx ...), which the same factor
scales on both sides, so it is left as is. Imported flows (`"scaled": true`) are 0-255 image
intensities mapped to [0, 1], not pixels; they are resized but not rescaled.

The appearance input is the aligned apex frame resized to `app_size`, as float32 in [0, 1].
Normalisation (per-channel mean/std) is not done here: `fit_folds` computes it on each fold's
training samples only, so no statistic of a test subject reaches its own fold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fsr_cli.data.labels import LABEL_SETS, composite_outside, label_in_set, normalise_emotion
from fsr_cli.errors import FsrError, UsageError
from fsr_cli.prepared import PreparedSet, load_prepared


@dataclass(frozen=True)
class Features:
    """Everything one training run reads, one row per kept sample (in manifest order)."""

    flow: np.ndarray  # (N, 3, S, S) float32
    app: np.ndarray  # (N, 1, A, A) float32 in [0, 1]
    y: np.ndarray  # (N,) int64 index into `classes`
    classes: tuple[str, ...]  # fixed: the label set's order
    dataset: np.ndarray  # (N,) str
    subject: np.ndarray  # (N,) str, as the dataset spells it
    clip: np.ndarray  # (N,) str
    excluded: dict[str, dict[str, int]] = field(default_factory=dict)  # dataset -> emotion -> count

    @property
    def groups(self) -> np.ndarray:
        """LOSO group of each sample: 'dataset/subject' (subjects stay distinct across datasets)."""
        return np.array([f"{d}/{s}" for d, s in zip(self.dataset, self.subject, strict=True)])

    def __len__(self) -> int:
        return len(self.y)


def load_sets(paths: list[Path], cache_dir: Path | None = None) -> list[PreparedSet]:
    """Load the prepared manifests of several datasets; a dataset given twice is a usage error."""
    sets = [load_prepared(Path(p), cache_dir) for p in paths]
    seen: dict[str, Path] = {}
    for s in sets:
        if s.dataset in seen:
            raise UsageError(
                f"dataset {s.dataset!r} given twice ({seen[s.dataset]} and {s.root}); give each dataset once"
            )
        seen[s.dataset] = s.root
    return sets


def resize_flow(flow: np.ndarray, size: int, *, scaled: bool = False) -> np.ndarray:
    """Resize a (3, H, W) flow to (3, size, size); u, v rescaled to pixels of the new grid."""
    import cv2

    _, h, w = flow.shape
    hwc = np.ascontiguousarray(flow.transpose(1, 2, 0), dtype=np.float32)  # (H, W, 3)
    out = cv2.resize(hwc, (size, size), interpolation=cv2.INTER_AREA).transpose(2, 0, 1)  # (3, S, S)
    out = np.ascontiguousarray(out, dtype=np.float32)
    if not scaled:
        out[0] *= size / w
        out[1] *= size / h
    return out


def resize_frame(frame: np.ndarray, size: int) -> np.ndarray:
    """Resize a uint8 grey (H, W) frame to a float32 (1, size, size) image in [0, 1]."""
    import cv2

    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    interp = cv2.INTER_AREA if size <= min(grey.shape) else cv2.INTER_LINEAR
    out = cv2.resize(grey, (size, size), interpolation=interp).astype(np.float32) / 255.0
    return out[None]  # (1, A, A)


def sample_arrays(
    arrays: dict[str, np.ndarray], *, flow_size: int, app_size: int, scaled: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """One prepared flow entry -> (flow (3,S,S), app (1,A,A)): the model's raw inputs (also for predict)."""
    return resize_flow(arrays["flow"], flow_size, scaled=scaled), resize_frame(arrays["apex"], app_size)


def class_of(emotion: str, label_set: str, dataset: str | None = None) -> str | None:
    """The class of a native emotion of `dataset` under `label_set` (None: the set leaves it out)."""
    return label_in_set(normalise_emotion(emotion), label_set, dataset)


def build_features(sets: list[PreparedSet], *, label_set: str, flow_size: int, app_size: int) -> Features:
    """Map emotions to classes, drop (and count) samples outside the set, and resize the inputs.

    Raises:
        UsageError: unknown label set, or fewer than two classes of the set among the samples.
    """
    if label_set not in LABEL_SETS:
        raise UsageError(f"unknown label set {label_set!r}; choose one of: {', '.join(LABEL_SETS)}")
    classes = LABEL_SETS[label_set]
    flows, apps, ys, meta = [], [], [], []
    # Each record names its own dataset: one imported manifest may mix CASME II, SAMM and SMIC.
    excluded: dict[str, Counter] = {}
    for pset in sets:
        for sample in pset.samples:
            excluded.setdefault(sample.dataset, Counter())
            cls = class_of(sample.emotion, label_set, sample.dataset)
            if cls is None:
                excluded[sample.dataset][normalise_emotion(sample.emotion)] += 1
                continue
            if label_set == "composite" and sample.apex_source != "imported":
                annotated = sample.apex_source == "annotated"
                why = composite_outside(sample.dataset, sample.onset, sample.apex, apex_annotated=annotated)
                if why is not None:  # counted as '<emotion>: <reason>'
                    excluded[sample.dataset][f"{normalise_emotion(sample.emotion)}: {why}"] += 1
                    continue
            arrays = pset.load(sample)
            if not np.isfinite(arrays["flow"]).all():
                raise FsrError(
                    f"{pset.root / sample.entry}: the flow of {sample.uid} holds NaN or inf values; "
                    "a network cannot learn from them: prepare or import that sample again, or leave it out"
                )
            flow, app = sample_arrays(arrays, flow_size=flow_size, app_size=app_size, scaled=pset.scaled)
            flows.append(flow)
            apps.append(app)
            ys.append(classes.index(cls))
            meta.append((sample.dataset, sample.subject, sample.clip))
    if not ys:
        names = ", ".join(s.dataset for s in sets)
        raise UsageError(
            f"no sample of {names} is in label set {label_set!r}; choose another --labels "
            f"({', '.join(LABEL_SETS)})"
        )
    present = sorted({classes[y] for y in ys})
    if len(present) < 2:
        names = ", ".join(s.dataset for s in sets)
        left = sum(sum(c.values()) for c in excluded.values())
        raise UsageError(
            f"label set {label_set!r} keeps only class {present[0]!r} of {names} ({len(ys)} samples; "
            f"{left} left out): nothing to tell apart; choose another --labels ({', '.join(LABEL_SETS)})"
        )
    ds, subj, clip = (np.array(col) for col in zip(*meta, strict=True))
    return Features(
        flow=np.stack(flows),  # (N, 3, S, S)
        app=np.stack(apps),  # (N, 1, A, A)
        y=np.asarray(ys, dtype=np.int64),
        classes=tuple(classes),
        dataset=ds,
        subject=subj,
        clip=clip,
        excluded={d: dict(sorted(c.items())) for d, c in excluded.items()},
    )
