"""Tables of a finished run, recomputed from its predictions.csv (the one source of truth).

`fsr train` writes metrics.json through the same function, so `fsr evaluate RUN` reproduces it
exactly; metrics.json is a convenience copy, never read back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.model.config import model_label
from fsr_cli.train import rundir
from fsr_cli.train.metrics import pooled_metrics
from fsr_cli.train.selection import is_leaky


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
        from fsr_cli.train.seeds import seed_predictions, seed_summary

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


BOOTSTRAP_DRAWS = 2000


def _weighted_uf1(y: np.ndarray, p: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Macro F1 over classes present in the (weighted) truth, for each row of weights w (B, N)."""
    tp = np.stack([(w * ((y == c) & (p == c))).sum(1) for c in range(k)], 1)  # (B, K)
    true_n = np.stack([(w * (y == c)).sum(1) for c in range(k)], 1)
    pred_n = np.stack([(w * (p == c)).sum(1) for c in range(k)], 1)
    denom = true_n + pred_n
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-12), 0.0)
    present = true_n > 0
    return (f1 * present).sum(1) / np.maximum(present.sum(1), 1)


def _subject_weights(groups: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """(draws, N) sample weights of a bootstrap over subjects: each draw picks len(subjects)
    subjects with replacement, and every sample counts as often as its subject was picked."""
    names, g = np.unique(groups, return_inverse=True)
    rng = np.random.default_rng(seed)
    counts = np.stack(
        [np.bincount(rng.integers(0, len(names), len(names)), minlength=len(names)) for _ in range(draws)]
    )
    return counts[:, g].astype(np.float64)


def uf1_interval(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, k: int, *, draws: int = BOOTSTRAP_DRAWS, seed: int = 0
) -> list[float] | None:
    """95 % bootstrap interval over subjects of the pooled UF1 of predictions p against truth y.

    How much the figure owes to which subjects the data holds: on a few dozen subjects it is far
    wider than the spread over training seeds. None when there is no sample.
    """
    if len(y) == 0:
        return None
    boot = _weighted_uf1(np.asarray(y), np.asarray(p), _subject_weights(np.asarray(groups), draws, seed), k)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def paired_bootstrap(
    a: dict, b: dict, *, run_a: str, run_b: str, draws: int = BOOTSTRAP_DRAWS, seed: int = 0
) -> dict:
    """UF1(A) - UF1(B) on the same samples, with a 95 % paired bootstrap interval over subjects.

    Subjects ('dataset/subject') are drawn with replacement, each with all its samples, and both
    runs are scored on every draw, so the interval reflects which subjects the data holds.

    Raises:
        UsageError: the runs share no sample, or use different class lists.
    """
    if list(a["classes"]) != list(b["classes"]):
        raise UsageError(f"{run_a} and {run_b} use different classes ({a['classes']} vs {b['classes']})")
    key = lambda d: [f"{x}|{s}|{c}" for x, s, c in zip(d["dataset"], d["subject"], d["clip"], strict=True)]  # noqa: E731
    ka, kb = key(a["preds"]), key(b["preds"])
    common = sorted(set(ka) & set(kb))
    if not common:
        raise UsageError(f"{run_a} and {run_b} share no sample; compare runs on the same data")
    ia, ib = {k: i for i, k in enumerate(ka)}, {k: i for i, k in enumerate(kb)}
    sa, sb = np.array([ia[k] for k in common]), np.array([ib[k] for k in common])
    classes = list(a["classes"])
    idx = {c: i for i, c in enumerate(classes)}
    y = np.array([idx[c] for c in a["preds"]["true"][sa]])
    if not np.array_equal(y, np.array([idx[c] for c in b["preds"]["true"][sb]])):
        raise UsageError(f"{run_a} and {run_b} disagree on the true class of some samples; not the same data")
    pa = np.array([idx[c] for c in a["preds"]["pred"][sa]])
    pb = np.array([idx[c] for c in b["preds"]["pred"][sb]])
    groups = np.array([k.rsplit("|", 1)[0] for k in common])
    w = _subject_weights(groups, draws, seed)  # (draws, N): each sample weighted by its subject's draws
    k = len(classes)
    ones = np.ones((1, len(y)))
    diff = float(_weighted_uf1(y, pa, ones, k)[0] - _weighted_uf1(y, pb, ones, k)[0])
    boot = _weighted_uf1(y, pa, w, k) - _weighted_uf1(y, pb, w, k)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return {
        "a": run_a,
        "b": run_b,
        "uf1_diff": round(diff, 4),
        "ci95": [round(float(lo), 4), round(float(hi), 4)],
        "p_a_not_better": round(float((boot <= 0).mean()), 4),
        "n_samples": len(common),
        "n_subjects": len(np.unique(groups)),
        "only_a": len(ka) - len(common),
        "only_b": len(kb) - len(common),
        "draws": draws,
        "seed": seed,
    }


def compare_runs(runs: list[Path], docs: list[dict]) -> list[dict]:
    """Paired bootstrap of every run against the first one."""

    def load(run: Path, doc: dict) -> dict:
        return {"classes": doc["classes"], "preds": rundir.read_predictions(Path(run) / rundir.PREDICTIONS)}

    base = load(runs[0], docs[0])
    return [
        paired_bootstrap(load(r, d), base, run_a=str(r), run_b=str(runs[0]))
        for r, d in zip(runs[1:], docs[1:], strict=True)
    ]
