"""Model selection: which epoch's predictions a fold contributes to the pooled metrics.

`last` (the default, honest): the fixed epoch budget; every fold uses its last epoch, chosen
before any test sample is seen.

`test-oracle`: each fold uses the epoch with the best accuracy on its own test fold (ties: the
earliest such epoch). Several published MER codes report this; it looks at the test labels,
so its figures are optimistic and every output that shows them carries LEAKAGE_LABEL.
Its model.pt is still the last epoch's weights (only the predictions are taken at the oracle
epoch), which report.md states.

`inner-val` (honest): each fold holds INNER_VAL_SHARE of its *training* subjects out of its
training (protocols.inner_val_folds), scores them after every epoch, and contributes its test
predictions of the epoch with the best UF1 on them (ties: the earliest). The test fold is never
looked at; the price is a fold model trained on fewer subjects.
"""

from __future__ import annotations

import numpy as np

from fsr_cli.errors import UsageError

SELECTIONS = ("last", "inner-val", "test-oracle")
INNER_VAL_SHARE = 0.2
LEAKAGE_LABEL = "test-oracle (LEAKAGE: each fold's epoch chosen on its own test labels; optimistic)"


def selection_label(mode: str, *, epochs: int) -> str:
    """The text that metrics.json, the tables and report.md show for a selection mode."""
    check_selection(mode)
    if mode == "test-oracle":
        return LEAKAGE_LABEL
    if mode == "inner-val":
        return (
            f"inner-val (the epoch of {epochs} with the best UF1 on {INNER_VAL_SHARE:.0%} of each fold's "
            "training subjects, held out of its training; honest)"
        )
    return f"last epoch (fixed budget of {epochs} epochs; honest)"


def is_leaky(label: str) -> bool:
    return "LEAKAGE" in str(label)


def check_selection(mode: str) -> None:
    if mode not in SELECTIONS:
        raise UsageError(f"unknown --select {mode!r}; choose one of: {', '.join(SELECTIONS)}")


def select_epoch(
    mode: str,
    *,
    test_probs: np.ndarray,
    probs_each_epoch: np.ndarray | None,
    y_test: np.ndarray,
    val_probs_each_epoch: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
) -> tuple[np.ndarray, int | None]:
    """Return (probabilities (n_test, C), chosen 0-based epoch or None for the last one).

    Raises:
        UsageError: test-oracle without per-epoch test probabilities (FitConfig.record_test_each_epoch).
    """
    check_selection(mode)
    if mode == "last":
        return test_probs, None
    if mode == "inner-val":
        if probs_each_epoch is None or val_probs_each_epoch is None or y_val is None:
            raise UsageError(
                "--select inner-val needs per-epoch validation and test predictions; they were not recorded"
            )
        if len(y_val) == 0:
            return test_probs, None
        scores = [_uf1(y_val, p.argmax(axis=1)) for p in val_probs_each_epoch]
        best = int(np.argmax(scores))
        return probs_each_epoch[best], best
    if probs_each_epoch is None:
        raise UsageError("--select test-oracle needs per-epoch test predictions; they were not recorded")
    correct = (probs_each_epoch.argmax(axis=2) == y_test[None, :]).mean(axis=1)  # (epochs,)
    best = int(np.argmax(correct))  # argmax takes the first of equal maxima
    return probs_each_epoch[best], best


def _uf1(y: np.ndarray, pred: np.ndarray) -> float:
    """Macro F1 over the classes present in y."""
    f1 = []
    for c in np.unique(y):
        tp = np.sum((y == c) & (pred == c))
        f1.append(2 * tp / (np.sum(y == c) + np.sum(pred == c)))
    return float(np.mean(f1))
