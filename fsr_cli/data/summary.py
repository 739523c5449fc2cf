"""What `fsr index` reports about a sample table: per-sample records and counts per label set."""

from __future__ import annotations

import re
from collections import Counter

from fsr_cli.data.labels import LABEL_SETS, composite_outside, label_in_set, unknown_word
from fsr_cli.data.sample import Sample, SampleTable
from fsr_cli.errors import UsageError

# Count key of the samples a label set leaves out ('others' under composite).
OUTSIDE = "outside_set"


def natural_key(text: str) -> list:
    """'s10' after 's2': digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def sample_record(sample: Sample) -> dict:
    """The JSON record of one sample in `fsr index --json`; a sample the composite leaves out
    (composite_outside) has no composite class (label3 null)."""
    outside = composite_outside(sample.dataset, sample.onset, sample.apex) if sample.label3 else None
    return {
        "dataset": sample.dataset,
        "subject": sample.subject,
        "clip": sample.clip,
        "onset": sample.onset,
        "apex": sample.apex,
        "offset": sample.offset,
        "emotion": sample.emotion,
        "label3": None if outside else sample.label3,
        "n_frames": len(sample.frames),
    }


def check_label_set(label_set: str) -> tuple[str, ...]:
    """The classes of `label_set`; UsageError naming the valid sets when it is unknown."""
    if label_set not in LABEL_SETS:
        raise UsageError(f"unknown label set {label_set!r}; choose one of: {', '.join(LABEL_SETS)}")
    return LABEL_SETS[label_set]


def label_counts(samples: list[Sample], *, label_set: str) -> dict:
    """Samples per class of `label_set`, overall and per subject (subjects in natural order).

    Every class of the set is listed, with 0 where it has no sample, and the samples the set
    leaves out are counted under OUTSIDE, so the counts add up to the number of samples. Under
    `composite`, CASME II rows the MEGC2019 composite leaves out (labels.composite_outside) are
    outside too; `left_out` names every sample left out, with its reason (left_out_reason).

    Raises:
        UsageError: unknown label set.
    """
    classes = check_label_set(label_set)
    keys = (*classes, OUTSIDE)
    by_label: Counter = Counter()
    by_subject: dict[str, Counter] = {}
    for s in samples:
        key = label_in_set(s.emotion, label_set, s.dataset) or OUTSIDE
        if key != OUTSIDE and label_set == "composite" and composite_outside(s.dataset, s.onset, s.apex):
            key = OUTSIDE
        by_label[key] += 1
        by_subject.setdefault(s.subject, Counter())[key] += 1
    return {
        "label_set": label_set,
        "classes": list(classes),
        "by_label": {k: by_label[k] for k in keys},
        "by_subject": {
            subject: {k: by_subject[subject][k] for k in keys}
            for subject in sorted(by_subject, key=natural_key)
        },
        "left_out": [
            {"sample": s.uid, "emotion": s.emotion, "reason": why}
            for s in samples
            if (why := left_out_reason(s, label_set)) is not None
        ],
    }


def left_out_reason(s: Sample, label_set: str) -> str | None:
    """Why `label_set` leaves a sample out (None: it keeps it): an emotion that is not a known word
    (with the closest one), an emotion outside the set, or the composite's own exclusions."""
    if (why := unknown_word(s.emotion)) is not None:
        return why
    if label_in_set(s.emotion, label_set, s.dataset) is None:
        return f"emotion {s.emotion!r} is not in label set {label_set}"
    if label_set == "composite":
        return composite_outside(s.dataset, s.onset, s.apex)
    return None


def index_document(table: SampleTable, *, label_set: str = "composite") -> dict:
    """The one JSON document of `fsr index --json`."""
    return {
        "dataset": table.dataset,
        "root": str(table.root),
        "n_samples": len(table.samples),
        "samples": [sample_record(s) for s in table.samples],
        "problems": [{"source": p.source, "reason": p.reason} for p in table.problems],
        "counts": label_counts(table.samples, label_set=label_set),
    }
