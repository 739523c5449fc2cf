"""The pooled outputs of a run, computed from its fold files: predictions, metrics, theta, figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr_cli.evaluation import metrics_from_predictions
from fsr_cli.train import rundir
from fsr_cli.train.features import Features
from fsr_cli.train.selection import select_epoch


def prediction_rows(run: Path, *, feats: Features, folds: list, select: str) -> list[dict]:
    """One row per test sample (in sample order): its fold, the chosen epoch, truth, prediction, probs."""
    rows: dict[int, dict] = {}
    for fold in folds:
        z = rundir.read_probs(rundir.fold_dir(run, fold.name) / rundir.PROBS)
        probs, epoch = select_epoch(
            select,
            test_probs=z["test_probs"],
            probs_each_epoch=z.get("probs_each_epoch"),
            y_test=feats.y[fold.test_idx],
            val_probs_each_epoch=z.get("val_probs_each_epoch"),
            y_val=feats.y[z["val_idx"]] if "val_idx" in z else None,
        )
        n_epochs = len(rundir.read_history(rundir.fold_dir(run, fold.name) / rundir.HISTORY))
        for i, p in zip(fold.test_idx.tolist(), probs, strict=True):
            rows[i] = {
                "dataset": feats.dataset[i],
                "subject": feats.subject[i],
                "clip": feats.clip[i],
                "fold": fold.name,
                "epoch": (epoch + 1) if epoch is not None else n_epochs,  # 1-based
                "true": feats.classes[feats.y[i]],
                "pred": feats.classes[int(np.argmax(p))],
                "probs": p.tolist(),
            }
    return [rows[i] for i in sorted(rows)]


def write_outputs(run: Path, *, feats: Features, folds: list, select: str) -> dict:
    """predictions.csv, metrics.json, theta.json, confusion.png and report.md; returns the metrics."""
    from fsr_cli.evaluation import report
    from fsr_cli.train import theta

    config = rundir.read_config(run)
    rows = prediction_rows(run, feats=feats, folds=folds, select=select)
    rundir.write_predictions(run / rundir.PREDICTIONS, rows, list(feats.classes))
    metrics = metrics_from_predictions(rundir.read_predictions(run / rundir.PREDICTIONS), config=config)
    rundir.write_json(run / rundir.METRICS, metrics)
    tdoc = theta.theta_doc(run, folds=[f.name for f in folds], config=config)
    rundir.write_json(run / rundir.THETA, tdoc)
    report.write_views(run, metrics, config=config, theta=theta.summarise(tdoc, run=str(run)))
    return metrics
