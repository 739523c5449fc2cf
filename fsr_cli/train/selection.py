"""Model selection: which epoch's predictions a fold contributes to the pooled metrics.

`last` (the default, honest): the fixed epoch budget; every fold uses its last epoch, chosen
before any test sample is seen.

`test-oracle`: each fold uses the epoch with the best accuracy on its own test fold (ties: the
earliest such epoch). Several published MER codes report this; it looks at the test labels,
so its figures are optimistic and every output that shows them carries LEAKAGE_LABEL.
Its model.pt is still the last epoch's weights (only the predictions are taken at the oracle
epoch), which report.md states.
"""

from __future__ import annotations

import numpy as np

from fsr_cli.errors import UsageError

SELECTIONS = ("last", "test-oracle")
LEAKAGE_LABEL = "test-oracle (LEAKAGE: each fold's epoch chosen on its own test labels; optimistic)"


def selection_label(mode: str, *, epochs: int) -> str:
    """The text that metrics.json, the tables and report.md show for a selection mode."""
    check_selection(mode)
    if mode == "test-oracle":
        return LEAKAGE_LABEL
    return f"last epoch (fixed budget of {epochs} epochs; honest)"


def is_leaky(label: str) -> bool:
    return "LEAKAGE" in str(label)


def check_selection(mode: str) -> None:
    if mode not in SELECTIONS:
        raise UsageError(f"unknown --select {mode!r}; choose one of: {', '.join(SELECTIONS)}")


def select_epoch(
    mode: str, *, test_probs: np.ndarray, probs_each_epoch: np.ndarray | None, y_test: np.ndarray
) -> tuple[np.ndarray, int | None]:
    """Return (probabilities (n_test, C), chosen 0-based epoch or None for the last one).

    Raises:
        UsageError: test-oracle without per-epoch test probabilities (FitConfig.record_test_each_epoch).
    """
    check_selection(mode)
    if mode == "last":
        return test_probs, None
    if probs_each_epoch is None:
        raise UsageError("--select test-oracle needs per-epoch test predictions; they were not recorded")
    correct = (probs_each_epoch.argmax(axis=2) == y_test[None, :]).mean(axis=1)  # (epochs,)
    best = int(np.argmax(correct))  # argmax takes the first of equal maxima
    return probs_each_epoch[best], best
