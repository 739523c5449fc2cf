"""The subject bootstrap: how much a UF1, or the difference of two runs' UF1, owes to which
subjects the data holds (samples of one subject are drawn together)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.train import rundir

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
