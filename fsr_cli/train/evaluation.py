"""Tables of a finished run, recomputed from its predictions.csv (the one source of truth).

`fsr train` writes metrics.json through the same function, so `fsr evaluate RUN` reproduces it
exactly; metrics.json is a convenience copy, never read back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.train import rundir
from fsr_cli.train.metrics import pooled_metrics
from fsr_cli.train.selection import is_leaky


def metrics_from_predictions(preds: dict[str, np.ndarray], *, config: dict) -> dict:
    """The metrics.json document of a run from predictions.csv's columns and config.yaml."""
    classes = list(config["classes"])
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(preds["true"]) - set(index) | set(preds["pred"]) - set(index))
    if unknown:
        raise UsageError(f"predictions.csv names classes {unknown} that are not in config.yaml {classes}")
    y_true = np.array([index[c] for c in preds["true"]], dtype=np.int64)
    y_pred = np.array([index[c] for c in preds["pred"]], dtype=np.int64)
    doc = pooled_metrics(
        y_true=y_true, y_pred=y_pred, classes=classes, dataset=preds["dataset"], fold=preds["fold"]
    )
    selection = config["selection"]["label"]
    return {
        "uf1": doc.pop("uf1"),
        "uar": doc.pop("uar"),
        "acc": doc.pop("acc"),
        "selection": selection,
        "leakage": is_leaky(selection),
        "protocol": config["protocol"],
        "labels": config["labels"],
        "model": config["model"].get("name", config.get("model_source")),
        "datasets": [d["name"] for d in config["datasets"]],
        "excluded": config.get("excluded", {}),
        **doc,
    }


def evaluate_run(run: Path) -> dict:
    """Recompute a run's metrics from RUN/predictions.csv (with "run": the folder)."""
    run = Path(run)
    if not run.is_dir():
        raise UsageError(f"{run}: no such run folder; give a folder made by `fsr train` (runs/train/exp...)")
    config = rundir.read_config(run)
    preds = rundir.read_predictions(run / rundir.PREDICTIONS)
    return {"run": str(run), **metrics_from_predictions(preds, config=config)}


def comparison_rows(docs: list[dict]) -> list[dict]:
    """One row per run: pooled UF1/UAR/acc, per-dataset UF1, and whether the selection leaks."""
    rows = []
    for d in docs:
        row = {
            "run": d["run"],
            "model": d["model"],
            "uf1": d["uf1"],
            "uar": d["uar"],
            "acc": d["acc"],
            "n_samples": d["n_samples"],
            "leakage": d["leakage"],
            "selection": d["selection"],
        }
        row["per_dataset"] = {
            k: {m: v[m] for m in ("uf1", "uar", "acc")} for k, v in d["per_dataset"].items()
        }
        rows.append(row)
    return rows
