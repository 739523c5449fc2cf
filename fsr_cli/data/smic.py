"""SMIC-HS reader.

Layout (as released by the University of Oulu)::

    ROOT/SMIC_all_raw/HS/s1/micro/negative/s1_ne_01/image059700.bmp

ROOT may also be SMIC_all_raw/ or HS/ itself. There is no spreadsheet: the label is the folder
name (negative / positive / surprise), onset is the first frame on disk, offset the last, and
there is no apex (later spotted). Subjects are not zero-padded ('s1'). `non_micro` folders are
ignored, and so are subjects without a `micro` folder (SMIC recorded more subjects than showed
micro-expressions). 100 fps (the high-speed camera).
"""

from __future__ import annotations

import re
from pathlib import Path

from fsr_cli.data.frames import clip_frames, list_frames, relative
from fsr_cli.data.labels import composite_label
from fsr_cli.data.sample import Problem, Sample, SampleTable
from fsr_cli.errors import DatasetError, SampleError

DATASET = "smic"
FPS = 100.0
LABELS = ("negative", "positive", "surprise")
_SUBJECT = re.compile(r"s(\d+)", re.IGNORECASE)


def find_hs(root: Path) -> Path | None:
    """The HS folder of a SMIC root (ROOT/SMIC_all_raw/HS, ROOT/HS or ROOT itself), or None."""
    for candidate in (root / "SMIC_all_raw" / "HS", root / "HS"):
        if candidate.is_dir():
            return candidate
    if any((s / "micro").is_dir() for s in _subject_dirs(root)):
        return root
    return None


def read(root: Path) -> SampleTable:
    """Read a SMIC-HS root into a sample table (bad clip folders become problems).

    Raises:
        DatasetError: no HS folder.
    """
    hs = find_hs(root)
    if hs is None:
        raise DatasetError(
            f"{root}: no SMIC_all_raw/HS/ or HS/ folder (expected SMIC-HS: HS/s1/micro/negative/...)"
        )
    samples: list[Sample] = []
    problems: list[Problem] = []
    for subject_dir in _subject_dirs(hs):
        micro = subject_dir / "micro"
        if not micro.is_dir():
            continue
        for label_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            label = label_dir.name.lower()
            if label not in LABELS:
                reason = f"unknown label folder {label_dir.name!r} (expected {', '.join(LABELS)})"
                problems.append(Problem(source=relative(label_dir, root), reason=reason))
                continue
            for clip_dir in sorted(p for p in label_dir.iterdir() if p.is_dir()):
                try:
                    samples.append(_clip_sample(clip_dir, subject=subject_dir.name, label=label, root=root))
                except SampleError as exc:
                    problems.append(Problem(source=relative(clip_dir, root), reason=str(exc)))
    return SampleTable(dataset=DATASET, root=root, samples=samples, problems=problems)


def _clip_sample(clip_dir: Path, *, subject: str, label: str, root: Path) -> Sample:
    frames = list_frames(clip_dir)
    if not frames:
        raise SampleError(f"no frames in {relative(clip_dir, root)}")
    onset, offset = min(frames), max(frames)
    numbers, files = clip_frames(clip_dir, onset, offset, root=root, listing=frames)
    return Sample(
        dataset=DATASET,
        subject=subject,
        clip=clip_dir.name,
        frames=files,
        frame_numbers=numbers,
        onset=onset,
        apex=None,
        offset=offset,
        emotion=label,
        fps=FPS,
        source=relative(clip_dir, root),
        label3=composite_label(label),
    )


def _subject_dirs(folder: Path) -> list[Path]:
    """s1, s2, ..., s10 in numeric order."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and _SUBJECT.fullmatch(p.name)]
    return sorted(found, key=lambda p: int(_SUBJECT.fullmatch(p.name).group(1)))
