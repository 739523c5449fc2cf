"""MER metrics on predictions pooled over folds: UF1, UAR, accuracy (scikit-learn underneath).

UF1 is the unweighted (macro) mean of per-class F1 and UAR the unweighted mean of per-class
recall, as in MEGC2019. Both are averaged over the classes that occur in the truth of the
samples being scored. A class absent from the truth has no defined recall (0/0), so it cannot
enter a mean without inventing a value; it is listed in "absent_classes", its per-class F1 and
recall are null, and "note" says so. Predictions of an absent class still count: they are
errors against the sample's true class (a lower recall for that class). Accuracy and the
confusion matrix always use the full class list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.evaluation.bootstrap import uf1_interval
from fsr_cli.model.config import model_label
from fsr_cli.train.selection import is_leaky


def _round(x: float) -> float:
    return round(float(x), 6)


def score(y_true: Sequence[int], y_pred: Sequence[int], *, labels: Sequence[str]) -> dict:
    """UF1, UAR, accuracy, per-class figures and the confusion matrix of integer class predictions.

    Args:
        y_true: true class indices into `labels`.
        y_pred: predicted class indices into `labels`.
        labels: the full, fixed class list (its order is the confusion matrix's order).

    Returns:
        {"uf1", "uar", "acc", "n_samples", "classes", "absent_classes", "per_class", "confusion",
        "note"?}; uf1/uar are None when there is no sample.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score

    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    idx = list(range(len(labels)))
    present = [i for i in idx if np.any(y_true == i)]
    absent = [labels[i] for i in idx if i not in present]
    doc: dict = {"uf1": None, "uar": None, "acc": None, "n_samples": int(len(y_true))}
    per_class = {c: {"f1": None, "recall": None, "precision": None, "support": 0} for c in labels}
    if present:
        kw = {"labels": present, "average": None, "zero_division": 0}
        f1 = f1_score(y_true, y_pred, **kw)
        rec = recall_score(y_true, y_pred, **kw)
        prec = precision_score(y_true, y_pred, **kw)
        for k, i in enumerate(present):
            per_class[labels[i]] = {
                "f1": _round(f1[k]),
                "recall": _round(rec[k]),
                "precision": _round(prec[k]),
                "support": int(np.sum(y_true == i)),
            }
        doc.update(
            uf1=_round(np.mean(f1)), uar=_round(np.mean(rec)), acc=_round(accuracy_score(y_true, y_pred))
        )
    doc["classes"] = list(labels)
    doc["absent_classes"] = absent
    if absent:
        doc["note"] = (
            f"{', '.join(absent)} absent from the truth: F1/recall undefined (null) and left out of "
            f"the UF1/UAR means over {len(present)} of {len(labels)} classes"
        )
    doc["per_class"] = per_class
    doc["confusion"] = confusion_matrix(y_true, y_pred, labels=idx).tolist() if len(y_true) else []
    return doc


def brief(doc: dict) -> dict:
    """The short form used per dataset and per fold: no confusion matrix, no per-class block."""
    keep = ("uf1", "uar", "acc", "n_samples", "absent_classes", "note")
    return {k: doc[k] for k in keep if k in doc}


def pooled_metrics(
    *,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
    dataset: np.ndarray,
    fold: np.ndarray,
) -> dict:
    """Pooled metrics plus per-dataset and per-fold breakdowns (the body of metrics.json)."""
    doc = score(y_true, y_pred, labels=classes)
    doc["per_dataset"] = {
        str(d): brief(score(y_true[dataset == d], y_pred[dataset == d], labels=classes))
        for d in sorted(set(dataset.tolist()))
    }
    doc["per_fold"] = {
        str(f): brief(score(y_true[fold == f], y_pred[fold == f], labels=classes))
        for f in sorted(set(fold.tolist()))
    }
    return doc


def metrics_from_predictions(preds: dict[str, np.ndarray], *, config: dict, intervals: bool = True) -> dict:
    """The metrics.json document of a run from predictions.csv's columns and config.yaml; without
    `intervals`, the UF1 intervals over subjects are left out (callers that keep only the figures)."""
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
    if intervals:
        subjects = np.array([f"{d}/{s}" for d, s in zip(preds["dataset"], preds["subject"], strict=True)])
        doc["uf1_ci95"] = uf1_interval(y_true, y_pred, subjects, len(classes))
        for name, m in doc["per_dataset"].items():
            here = preds["dataset"] == name
            m["uf1_ci95"] = uf1_interval(y_true[here], y_pred[here], subjects[here], len(classes))
    selection = config["selection"]["label"]
    return {
        "uf1": doc.pop("uf1"),
        "uar": doc.pop("uar"),
        "acc": doc.pop("acc"),
        "selection": selection,
        "leakage": is_leaky(selection),
        "protocol": config["protocol"],
        "labels": config["labels"],
        "model": model_label(config),
        "datasets": [d["name"] for d in config["datasets"]],
        "excluded": config.get("excluded", {}),
        **doc,
    }
