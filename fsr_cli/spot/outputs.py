"""What `fsr spot` writes: the intervals as CSV, and a timeline figure per video."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from fsr_cli.files import atomic_write, save_figure

CSV_HEADER = "video,status,onset,apex,offset,"
COLUMNS = (
    "video",
    "status",
    "onset",
    "apex",
    "offset",
    "onset_s",
    "apex_s",
    "offset_s",
    "score",
    "label",
    "reason",
)


def csv_rows(results: list[dict]) -> list[list]:
    """One row per spotted interval; a video that failed gets one row with its reason."""
    rows = [list(COLUMNS)]
    for r in results:
        if r.get("error"):
            rows.append([r["video"], "failed", *[""] * 8, r["error"]])
            continue
        for iv in r["intervals"]:
            values = [iv[k] for k in ("onset", "apex", "offset", "onset_s", "apex_s", "offset_s", "score")]
            rows.append([r["video"], "spotted", *values, iv.get("label", ""), ""])
    return rows


def write_csv(path: Path, results: list[dict]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(csv_rows(results))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), lambda tmp: tmp.write_text(buf.getvalue()))


def timeline(path: Path, spotted, truth: list[dict] | None = None) -> Path:
    """The score over time, the threshold, the spotted intervals (labelled where classified) and,
    given the truth, the true micro- and macro-expressions beneath."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(len(spotted.scores)) * spotted.step / spotted.fps
    fig, ax = plt.subplots(figsize=(12, 3.2))
    ax.plot(t, spotted.scores, lw=0.8, color="0.25", label="excursion score")
    ax.axhline(
        spotted.threshold, color="tab:red", ls="--", lw=0.8, label=f"threshold {spotted.threshold:.1f}"
    )
    top = max(float(spotted.scores.max(initial=0)), spotted.threshold) * 1.15 or 1.0
    for k, iv in enumerate(spotted.intervals):
        ax.axvspan(iv["onset_s"], iv["offset_s"] + 1 / spotted.fps, color="tab:orange", alpha=0.35, lw=0,
                   label="spotted" if k == 0 else None)  # fmt: skip
        ax.text(
            iv["apex_s"],
            top * 0.97,
            iv.get("label") or f"{iv['score']:.0f}",
            ha="center",
            va="top",
            fontsize=7,
        )
    if truth is not None:
        from fsr_cli.spot.megc import same_video, video_key

        key = video_key(spotted.path)
        for kind, colour, y in (("micro", "tab:green", -0.06), ("macro", "tab:blue", -0.12)):
            rows = [r for r in truth if same_video(key, r["video"]) and r["type"] == kind]
            for k, r in enumerate(rows):
                span = [r["onset"] / spotted.fps, (r["offset"] + 1) / spotted.fps]
                name = f"true {kind}" if k == 0 else None
                ax.plot(span, [y * top] * 2, color=colour, lw=4, solid_capstyle="butt", label=name)
    ax.set_ylim(-0.18 * top, top)
    ax.set_xlim(0, t[-1] if len(t) else 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("score (x block noise)")
    ax.set_title(
        f"{Path(spotted.path).name}: {len(spotted.intervals)} spotted, lag {spotted.lag} frames", fontsize=9
    )
    ax.legend(loc="upper right", fontsize=7, ncol=5, frameon=False, bbox_to_anchor=(1, 1.18))
    fig.tight_layout()
    try:
        return save_figure(fig, Path(path), dpi=120)
    finally:
        plt.close(fig)
