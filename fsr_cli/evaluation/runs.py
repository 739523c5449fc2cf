"""Tables of a finished run, recomputed from its predictions.csv (the one source of truth).

`fsr train` writes metrics.json through the same function, so `fsr evaluate RUN` reproduces it
exactly; metrics.json is a convenience copy, never read back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.evaluation.metrics import metrics_from_predictions
from fsr_cli.evaluation.seeds import seed_predictions, seed_summary
from fsr_cli.train import rundir


def check_complete(preds: dict[str, np.ndarray], config: dict, path: Path) -> None:
    """Refuse predictions that are not the whole run config.yaml records, or that were edited (a
    truncated or edited predictions.csv would otherwise score what is left of it, or anything)."""
    n, want = len(preds["true"]), config.get("n_samples")
    folds = [str(f) for f in config.get("folds", [])]
    missing = sorted(set(folds) - {str(f) for f in preds["fold"]})
    keys = list(zip(preds["dataset"], preds["subject"], preds["clip"], strict=True))
    repeated = len(keys) - len(set(keys))
    problems = []
    if want is not None and n != want:
        problems.append(f"{n} rows where config.yaml records {want} samples")
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        problems.append(f"no prediction for fold {shown}")
    if repeated:
        problems.append(f"{repeated} repeated samples")
    problems += _edited(preds, config)
    if problems:
        raise FsrError(
            f"{path} does not match its run: {'; '.join(problems)}; "
            f"re-create it with `fsr train --resume {path.parent}`"
        )


def _edited(preds: dict[str, np.ndarray], config: dict) -> list[str]:
    """What shows an edited predictions.csv: a `pred` that is not the argmax of its row's p_*
    columns, a `true` column other than the labels config.yaml recorded at training."""
    problems = []
    probs, classes = preds.get("probs"), list(preds.get("prob_classes", []))
    if probs is not None and probs.size and classes:
        index = {c: i for i, c in enumerate(classes)}
        at = np.array([probs[i, index[c]] if c in index else -np.inf for i, c in enumerate(preds["pred"])])
        off = np.flatnonzero(at < probs.max(axis=1) - 1e-6)  # the CSV's probabilities are rounded
        if len(off):
            problems.append(
                f"{len(off)} rows whose pred is not the most probable class (first: line {off[0] + 2})"
            )
    want = config.get("labels_digest")
    if want is not None:
        got = rundir.labels_digest(preds["dataset"], preds["subject"], preds["clip"], preds["true"])
        if got != want:
            problems.append("the true labels differ from those config.yaml recorded at training")
    return problems


def evaluate_run(run: Path) -> dict:
    """Recompute a run's metrics from RUN/predictions.csv (with "run": the folder)."""
    run = Path(run)
    if not run.is_dir():
        raise UsageError(f"{run}: no such run folder; give a folder made by `fsr train` (runs/train/exp...)")
    config = rundir.read_config(run)
    preds = rundir.read_predictions(run / rundir.PREDICTIONS)
    check_complete(preds, config, run / rundir.PREDICTIONS)
    doc = {"run": str(run), **metrics_from_predictions(preds, config=config)}
    if config.get("seeds"):
        doc["seeds"] = seed_summary(seed_predictions(run, config), config)
    return doc


def comparison_rows(docs: list[dict]) -> list[dict]:
    """One row per run: pooled UF1/UAR/acc, per-dataset UF1, what it was trained with (label set,
    n, epochs, seeds, selection) and whether the selection leaks."""
    rows = []
    for d in docs:
        config = rundir.read_config(Path(d["run"]))
        seeds = config.get("seeds") or [config.get("fit", {}).get("seed", config.get("seed"))]
        row = {
            "run": d["run"],
            "model": d["model"],
            "uf1": d["uf1"],
            "uar": d["uar"],
            "acc": d["acc"],
            "labels": d["labels"],
            "classes": d["classes"],
            "n_samples": d["n_samples"],
            "protocol": config.get("protocol"),
            "epochs": config.get("fit", {}).get("epochs")
            if config.get("model", {}).get("arch") != "svm"
            else None,  # an SVM is fitted once: it has no epoch budget to compare
            "seeds": seeds,
            "samples": config.get("labels_digest"),
            "leakage": d["leakage"],
            "selection": d["selection"],
        }
        row["per_dataset"] = {
            k: {m: v[m] for m in ("uf1", "uar", "acc")} for k, v in d["per_dataset"].items()
        }
        rows.append(row)
    return rows


def comparison_warnings(rows: list[dict]) -> list[str]:
    """What makes runs side by side not like for like: another protocol, label set or samples, a
    leaky selection beside an honest one, another epoch budget (networks only: an SVM has none)."""
    first, out = rows[0], []
    for r in rows[1:]:
        differ = []
        for key, what in (("protocol", "protocols"), ("labels", "label sets"), ("classes", "classes")):
            if r[key] != first[key]:
                differ.append(f"{what} ({r[key]} vs {first[key]})")
        if r["n_samples"] != first["n_samples"]:
            differ.append(f"samples ({r['n_samples']} vs {first['n_samples']})")
        elif None not in (r.get("samples"), first.get("samples")) and r["samples"] != first["samples"]:
            differ.append("samples (as many, but other samples or labels)")
        if r["leakage"] != first["leakage"]:
            differ.append(f"selection ({r['selection']} vs {first['selection']})")
        if None not in (r["epochs"], first["epochs"]) and r["epochs"] != first["epochs"]:
            differ.append(f"epoch budgets ({r['epochs']} vs {first['epochs']})")
        out += [
            f"{r['run']} and {first['run']} differ in {d}: not a like-for-like comparison" for d in differ
        ]
    return out
