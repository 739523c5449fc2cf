"""The MEGC spotting metric, and ground truth read from a CSV.

A spotted interval is a true positive when its intersection over union with a true interval of
the same video is at least 0.5 (frames counted inclusively); each true interval is matched once,
the pairs of highest IoU first. Precision = TP / spotted, recall = TP / true, F1 their harmonic
mean, pooled over every video (as MEGC scores a dataset). Only micro-expressions are the truth of
micro-expression spotting: a spotted interval on a macro-expression is a false positive (it is
also counted apart, `on_macro`, to show why).

Ground truth CSV (`fsr synth --layout long` writes one; the readers in fsr_cli.data.long write
the same from the releases' sheets): columns video, onset, offset, and optionally apex, type
(micro or macro; micro where absent), subject, emotion. Frames are 0-based indices of the video.
"""

from __future__ import annotations

import csv
from pathlib import Path

from fsr_cli.errors import UsageError

IOU = 0.5
SPOT_COLUMNS = ("subject", "video", "onset", "apex", "offset", "type", "emotion", "aus")


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0]) + 1
    if inter <= 0:
        return 0.0
    return inter / ((a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter)


def video_key(path: str | Path) -> str:
    """What a video is called in a truth: its file stem, or for a frame folder named color/depth
    (CAS(ME)^3) its subject and recording, 'spNO.1_a'."""
    p = Path(path)
    if p.name.lower() in ("color", "depth") and p.parent.name:
        return f"{p.parent.parent.name}_{p.parent.name}"
    return (
        p.stem
        if p.suffix.lower() in (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv")
        else p.name
    )


def same_video(key: str, truth_video: str) -> bool:
    """A truth's video names a recording whose file or folder name is it, or starts with it and
    goes on with a non-digit (CAS(ME)^2's 15_0101 is 15_0101disgustingteeth)."""
    if key == truth_video:
        return True
    rest = key[len(truth_video) :]
    return key.startswith(truth_video) and bool(rest) and not rest[0].isdigit() and rest[0] != "_"


def read_truth(path: Path) -> list[dict]:
    """Rows {video, onset, offset, apex, type, ...} of a ground-truth CSV, or of a release's
    long-video sheet (.xlsx: fsr_cli.data.long).

    Raises:
        UsageError: unreadable file, missing columns, a row whose frames are not whole numbers
            or whose offset precedes its onset (naming the line).
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from fsr_cli.data.long import read_long_truth

        return read_long_truth(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            missing = [c for c in ("video", "onset", "offset") if c not in fields]
            if missing:
                raise UsageError(
                    f"{path}: no column {', '.join(missing)}; a spotting truth needs video, onset, offset"
                )
            rows = []
            for line, raw in enumerate(reader, start=2):
                r = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
                try:
                    onset, offset = int(float(r["onset"])), int(float(r["offset"]))
                    apex = int(float(r["apex"])) if r.get("apex") not in (None, "", "/") else None
                except ValueError:
                    raise UsageError(f"{path} line {line}: onset/apex/offset must be frame numbers") from None
                if offset < onset:
                    raise UsageError(f"{path} line {line}: offset {offset} precedes onset {onset}")
                kind = (r.get("type") or "micro").lower()
                if kind not in ("micro", "macro"):
                    raise UsageError(f"{path} line {line}: type {kind!r} is neither micro nor macro")
                rows.append(
                    r
                    | {
                        "video": Path(r["video"]).stem,
                        "onset": onset,
                        "offset": offset,
                        "apex": apex,
                        "type": kind,
                    }
                )
            return rows
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the ground truth ({exc.strerror})") from None


def write_truth(path: Path, rows: list[dict]) -> None:
    from fsr_cli.files import atomic_write

    def text(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=SPOT_COLUMNS, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)

    atomic_write(path, text)


def _match(spotted: list[tuple[int, int]], true: list[tuple[int, int]]) -> list[tuple[int, int, float]]:
    pairs = sorted(
        ((iou(s, t), i, j) for i, s in enumerate(spotted) for j, t in enumerate(true)), reverse=True
    )
    used_s, used_t, hits = set(), set(), []
    for v, i, j in pairs:
        if v < IOU:
            break
        if i not in used_s and j not in used_t:
            used_s.add(i)
            used_t.add(j)
            hits.append((i, j, v))
    return hits


def evaluate(spotted: dict[str, list[tuple[int, int]]], truth: list[dict]) -> dict:
    """Pooled MEGC precision, recall and F1 of spotted intervals per video (by video_key) against
    the truth's micro-expressions; videos the truth does not list are reported, not scored."""
    per_video, tp, n_spot, n_true, on_macro = [], 0, 0, 0, 0
    for video, found in spotted.items():
        rows = [r for r in truth if same_video(video_key(video), r["video"])]
        micro = [(r["onset"], r["offset"]) for r in rows if r["type"] == "micro"]
        macro = [(r["onset"], r["offset"]) for r in rows if r["type"] == "macro"]
        if not rows:
            per_video.append({"video": video, "scored": False})
            continue
        hits = _match(found, micro)
        matched = {i for i, _, _ in hits}
        macro_fp = sum(
            1 for i, s in enumerate(found) if i not in matched and any(iou(s, m) >= IOU for m in macro)
        )
        tp, n_spot, n_true, on_macro = (
            tp + len(hits),
            n_spot + len(found),
            n_true + len(micro),
            on_macro + macro_fp,
        )
        per_video.append(
            {
                "video": video,
                "scored": True,
                "tp": len(hits),
                "spotted": len(found),
                "true": len(micro),
                "on_macro": macro_fp,
            }
        )
    precision = tp / n_spot if n_spot else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "iou": IOU,
        "tp": tp,
        "spotted": n_spot,
        "true": n_true,
        "on_macro": on_macro,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "videos": per_video,
    }
