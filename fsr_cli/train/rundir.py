"""The run directory of `fsr train`: where each artifact lives and how it is written and read back.

    RUN/.fsr-run                the claim: made exclusively when the folder is, so two runs never share it
    RUN/config.yaml             fully resolved configuration (format fsr-run, version RUN_VERSION)
    RUN/env.json                versions, seed, argv, the prepared.json files and their sha256
    RUN/folds/<fold>/model.pt   the fold's checkpoint (fsr_cli.model.checkpoint)
    RUN/folds/<fold>/probs.npz  test probabilities: last epoch (+ every epoch when recorded)
    RUN/folds/<fold>/history.csv  per epoch: loss, train_acc, [test_acc], theta_deg_<layer>...
    RUN/final/{model.pt,history.csv}  with --final: one model fitted on all samples
    RUN/predictions.csv, metrics.json, theta.json, confusion.png, report.md   pooled outputs

A fold is finished when its model.pt and history.csv exist; history.csv is written last, so a
run killed mid-fold leaves that fold unfinished and `--resume` trains it again. Every file is
written to a temporary sibling and renamed into place.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.files import atomic_write, dump_yaml, jsonable, load_yaml

RUN_FORMAT = "fsr-run"
RUN_VERSION = 1
DEFAULT_BASE = Path("runs/train")
CONFIG, ENV, PREDICTIONS, METRICS, THETA = (
    "config.yaml",
    "env.json",
    "predictions.csv",
    "metrics.json",
    "theta.json",
)
MODEL, HISTORY, PROBS = "model.pt", "history.csv", "probs.npz"
SEEDS_DIR = "seeds"
CLAIM = ".fsr-run"  # created exclusively when the run folder is made (new_run)
META_COLUMNS = ("dataset", "subject", "clip", "fold", "epoch", "true", "pred")


def next_run_dir(base: Path = DEFAULT_BASE, name: str = "exp") -> Path:
    """Create and return base/exp, base/exp2, base/exp3, ... (the first that does not exist)."""
    base.mkdir(parents=True, exist_ok=True)
    k = 1
    while True:
        path = base / (name if k == 1 else f"{name}{k}")
        try:
            path.mkdir()
            _claim(path)
            return path
        except FileExistsError:
            k += 1


def new_run(out: Path | None) -> Path:
    """The folder of a new run: `out` (new or empty, never a folder of the user's own files), or
    the next runs/train/expN. Claimed by an exclusive create of RUN/.fsr-run, so two runs given
    the same --out cannot both write into it.

    Raises:
        UsageError: `out` is a file, holds a run (use --resume) or other files, or is being claimed.
    """
    if out is None:
        return next_run_dir()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder for the run")
    if (out / CONFIG).is_file() or (out / CLAIM).is_file():
        raise UsageError(f"{out} already holds a run; use --resume {out} to finish it, or another --out")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"--out {out} is not empty and not an fsr run: fsr writes a run only into a new or empty "
            f"folder, so it never overwrites your files; give another, e.g. --out {out / 'run'}"
        )
    out.mkdir(parents=True, exist_ok=True)
    try:
        _claim(out)
    except FileExistsError:
        raise UsageError(f"{out}: another `fsr train` has just claimed it; give another --out") from None
    return out


def _claim(run: Path) -> None:
    with open(run / CLAIM, "x") as f:
        f.write("fsr-run\n")


def _safe(part: str) -> str:
    """A path-safe folder name for one part of a fold name, unique per part: a part that had to be
    changed gets a short hash of the original (subjects `s 1`, `s:1` and `s_1` are three folders)."""
    import hashlib

    clean = re.sub(r"[^A-Za-z0-9._-]", "_", part)
    clean = "_" if clean in ("", ".", "..") else clean
    if clean != part:
        clean += "-" + hashlib.sha256(part.encode()).hexdigest()[:8]
    return clean


def seed_dir(run: Path, seed: int) -> Path:
    """RUN/seeds/seed-<s>: one seed's whole run inside a run of several (`--seeds`)."""
    return Path(run) / SEEDS_DIR / f"seed-{seed}"


def fold_dir(run: Path, fold: str) -> Path:
    """RUN/folds/<dataset>/<subject> for 'dataset/subject' folds (each part made path-safe and kept
    distinct, see _safe)."""
    return run.joinpath("folds", *(_safe(p) for p in fold.split("/")))


def final_dir(run: Path) -> Path:
    return run / "final"


def is_finished(path: Path) -> bool:
    return (path / MODEL).is_file() and (path / HISTORY).is_file()


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text))


def write_json(path: Path, doc) -> None:
    write_text(path, json.dumps(jsonable(doc), indent=2) + "\n")


def write_yaml(path: Path, doc: dict) -> None:
    write_text(path, dump_yaml(doc))


def read_config(run: Path) -> dict:
    """RUN/config.yaml, checked to be a run directory of this format version."""
    path = Path(run) / CONFIG
    if not path.is_file():
        raise UsageError(f"{run}: not a training run (no {CONFIG}); give a folder made by `fsr train`")
    try:
        doc = load_yaml(path) or {}
    except FsrError as exc:
        raise FsrError(f"{exc}; the run folder is damaged, restore config.yaml or train again") from None
    if not isinstance(doc, dict):
        raise FsrError(f"{path}: not a run's config (a YAML mapping); restore it or train again")
    if doc.get("format") != RUN_FORMAT or doc.get("version") != RUN_VERSION:
        raise UsageError(
            f"{path}: run format {doc.get('format')!r} v{doc.get('version')} is not {RUN_FORMAT} "
            f"v{RUN_VERSION}; train it again with this fsr version"
        )
    return doc


def write_history(path: Path, history: list[dict]) -> None:
    """One row per epoch; the per-layer angle list becomes columns theta_deg_0, theta_deg_1, ..."""
    rows = []
    for h in history:
        row = {k: v for k, v in h.items() if k != "theta_deg"}
        row.update({f"theta_deg_{i}": t for i, t in enumerate(h.get("theta_deg", []))})
        rows.append(row)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _fmt(v) for k, v in r.items()} for r in rows)
    write_text(path, buf.getvalue())


def _fmt(v) -> str:
    if v is None:  # e.g. test_acc of the --final model, which has no test samples
        return ""
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def read_history(path: Path) -> list[dict]:
    """history.csv back to per-epoch dicts with "theta_deg" as a list of floats."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        thetas = sorted(
            (int(k.rsplit("_", 1)[1]), float(v)) for k, v in r.items() if k.startswith("theta_deg_")
        )
        h = {
            k: (int(v) if k == "epoch" else float(v))
            for k, v in r.items()
            if not k.startswith("theta_deg_") and v
        }
        h["theta_deg"] = [t for _, t in thetas]
        out.append(h)
    return out


def write_probs(
    path: Path,
    *,
    test_probs: np.ndarray,
    probs_each_epoch: np.ndarray | None,
    val_probs_each_epoch: np.ndarray | None = None,
    val_idx: np.ndarray | None = None,
) -> None:
    """test_probs (n_test, C) [+ probs_each_epoch (E, n_test, C)] [+ the inner validation's
    val_probs_each_epoch (E, n_val, C) and val_idx (n_val,), sample indices in the run's order]."""
    arrays = {"test_probs": np.asarray(test_probs, dtype=np.float32)}
    if probs_each_epoch is not None:
        arrays["probs_each_epoch"] = np.asarray(probs_each_epoch, dtype=np.float32)  # (E, n_test, C)
    if val_probs_each_epoch is not None:
        arrays["val_probs_each_epoch"] = np.asarray(val_probs_each_epoch, dtype=np.float32)
        arrays["val_idx"] = np.asarray(val_idx, dtype=np.int64)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would add .npz to a name
            np.savez(f, **arrays)

    atomic_write(path, write)


def read_probs(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a fold's probs.npz (see write_probs); absent ones are missing from the dict."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def write_predictions(path: Path, rows: list[dict], classes: list[str]) -> None:
    """rows: META_COLUMNS plus "probs" (C floats); probabilities are written with 6 decimals."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*META_COLUMNS, *(f"p_{c}" for c in classes)])
    for r in rows:
        writer.writerow([*(r[c] for c in META_COLUMNS), *(f"{p:.6f}" for p in r["probs"])])
    write_text(path, buf.getvalue())


def labels_digest(dataset, subject, clip, true) -> str:
    """sha256 of the run's (sample, true class) pairs, order-free: recorded in config.yaml at
    training, so that `fsr evaluate` refuses a predictions.csv whose `true` column was edited."""
    import hashlib

    lines = sorted(f"{d}/{s}/{c}\t{t}" for d, s, c, t in zip(dataset, subject, clip, true, strict=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def read_predictions(path: Path) -> dict[str, np.ndarray]:
    """predictions.csv as columns of strings (probabilities as one (N, C) float array "probs")."""
    if not path.is_file():
        raise UsageError(
            f"{path.parent}: no {path.name}; the run did not finish — `fsr train --resume {path.parent}`"
        )
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        rows = list(reader)
    missing = [c for c in META_COLUMNS if c not in header]
    if missing:
        raise FsrError(f"{path}: not a predictions table (no column {', '.join(missing)})")
    for line, r in enumerate(rows, start=2):
        if len(r) != len(header):
            raise FsrError(
                f"{path}, line {line}: {len(r)} fields where the header has {len(header)} "
                "(a truncated file?); "
                f"re-create it with `fsr train --resume {path.parent}`"
            )
    cols = {
        h: np.array([r[i] for r in rows], dtype=str) for i, h in enumerate(header) if not h.startswith("p_")
    }
    pcols = [i for i, h in enumerate(header) if h.startswith("p_")]
    try:
        probs = np.array([[float(r[i]) for i in pcols] for r in rows], dtype=np.float64)
    except ValueError as e:
        raise FsrError(
            f"{path}: a probability is not a number ({e}); "
            f"re-create it with `fsr train --resume {path.parent}`"
        ) from e
    cols["probs"] = probs.reshape(len(rows), -1)
    cols["prob_classes"] = np.array([header[i][2:] for i in pcols], dtype=str)
    return cols
