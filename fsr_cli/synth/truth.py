"""The two files every synth output holds besides the layout's own.

fsr_ground_truth.csv  dataset, subject, clip, emotion, label3, onset, apex, offset, angle_deg
                      (the true apex, also for SMIC and the '/' row of CASME II; frame
                      numbers absolute, 0-based frame indices for video)
fsr_synth.json        format, version, parameters, seed, frame size, fps, the entries written,
                      the '/' row, per-clip extras (first/last frame, action units, peak_px);
                      it marks the folder as synth output, so a rerun may replace it
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from fsr_cli.errors import UsageError
from fsr_cli.synth.layouts import PlannedClip

MARKER = "fsr_synth.json"
GROUND_TRUTH = "fsr_ground_truth.csv"
GT_COLUMNS = ("dataset", "subject", "clip", "emotion", "label3", "onset", "apex", "offset", "angle_deg")


@dataclass(frozen=True)
class TruthRow:
    """One row of fsr_ground_truth.csv (frame numbers absolute; video: 0-based frame index)."""

    dataset: str
    subject: str
    clip: str
    emotion: str  # canonical lowercase
    label3: str | None  # composite class; None for 'others'
    onset: int
    apex: int
    offset: int
    angle_deg: float

    @property
    def uid(self) -> str:
        return f"{self.dataset}/{self.subject}/{self.clip}"


def truth_rows(layout: str, planned: list[PlannedClip]) -> list[TruthRow]:
    """The ground truth of planned clips (the apex is the true one, whatever the sheet says)."""
    return [
        TruthRow(
            layout,
            c.subject,
            c.clip,
            c.emotion,
            c.spec.label3,
            c.spec.onset,
            c.spec.apex,
            c.spec.offset,
            c.spec.angle_deg,
        )
        for c in planned
    ]


def write_truth(path: Path, rows: list[TruthRow]) -> None:
    """fsr_ground_truth.csv: GT_COLUMNS, '' for a missing label3, angles written losslessly."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(GT_COLUMNS)
        for r in rows:
            values = {**asdict(r), "label3": r.label3 or "", "angle_deg": repr(float(r.angle_deg))}
            w.writerow([values[k] for k in GT_COLUMNS])


def read_ground_truth(root: Path) -> list[TruthRow]:
    """The rows of `<root>/fsr_ground_truth.csv`.

    Raises:
        UsageError: when root is not a synth output.
    """
    path = Path(root) / GROUND_TRUTH
    if not path.is_file():
        raise UsageError(f"{path} not found; {root} is not an `fsr synth` output")
    ints = ("onset", "apex", "offset")
    with open(path, newline="") as f:
        return [
            TruthRow(
                **{
                    **d,
                    "label3": d["label3"] or None,
                    "angle_deg": float(d["angle_deg"]),
                    **{k: int(d[k]) for k in ints},
                }
            )
            for d in csv.DictReader(f)
        ]


def read_marker(root: Path) -> dict:
    """The parameters and per-clip extras of a synth output (`fsr_synth.json`)."""
    return json.loads((Path(root) / MARKER).read_text())


def dataset_bytes(root: Path) -> int:
    """Bytes on disk of what synth wrote under root (a cache under root is not counted)."""
    root = Path(root)
    names = [*read_marker(root).get("entries", []), MARKER]
    total = 0
    for name in names:
        p = root / name
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return total
