"""Evaluation protocols: which samples each fold trains and tests on.

Both protocols are scikit-learn's LeaveOneGroupOut:

- `loso` (leave one subject out): groups = "dataset/subject". With several datasets this is the
  composite protocol of MEGC2019: subject "01" of CASME II and subject "01" of another set are
  different people, so they are different groups.
- `lodo` (leave one dataset out): groups = dataset names; each fold tests on a whole dataset
  after training on the others (cross-dataset generalisation).

Folds are ordered by group name, so a fold keeps its name and position from run to run.
"""

from __future__ import annotations

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.train.features import Features

PROTOCOLS = ("loso", "lodo")


def fold_groups(features: Features, protocol: str) -> np.ndarray:
    """The LeaveOneGroupOut group of each sample under `protocol`."""
    if protocol == "loso":
        return features.groups
    if protocol == "lodo":
        return features.dataset
    raise UsageError(f"unknown protocol {protocol!r}; choose one of: {', '.join(PROTOCOLS)}")


def check_protocol(features: Features, protocol: str) -> None:
    """One-line usage errors for inputs the protocol cannot split into train and test."""
    groups = np.unique(fold_groups(features, protocol)).tolist()
    if len(groups) >= 2:
        return
    if protocol == "loso":
        raise UsageError(
            f"loso needs at least 2 subjects; the data has only {groups[0]!r} under these labels; "
            "add datasets or subjects, or use --protocol lodo with several datasets"
        )
    raise UsageError(
        f"lodo needs at least 2 datasets; got only {groups[0]!r}; give several dataset folders "
        "(fsr train A/ B/ --protocol lodo) or use --protocol loso"
    )


def make_folds(features: Features, protocol: str) -> list:
    """LeaveOneGroupOut folds named after their test group ('casme2/01' for loso, 'samm' for lodo)."""
    check_protocol(features, protocol)  # before the heavy imports: bad input fails fast
    from sklearn.model_selection import LeaveOneGroupOut

    from fsr_cli.train.engine import Fold

    groups = fold_groups(features, protocol)
    folds = []
    dummy = np.zeros((len(groups), 1))
    for train_idx, test_idx in LeaveOneGroupOut().split(dummy, groups=groups):
        name = str(groups[test_idx[0]])
        folds.append(
            Fold(name=name, train_idx=train_idx.astype(np.int64), test_idx=test_idx.astype(np.int64))
        )
    return folds


def inner_val_folds(folds: list, features: Features, *, seed: int, share: float) -> list:
    """Each fold with `share` of its training subjects (at least one) moved to val_idx.

    The subjects are drawn from the fold's own seed (seed, fold name), so a fold's split does
    not depend on the other folds; a fold with one training subject keeps it for training.
    """
    from fsr_cli.train.engine import Fold
    from fsr_cli.train.foldwise import fold_seed

    groups = features.groups
    out = []
    for f in folds:
        subjects = np.unique(groups[f.train_idx])
        n_val = max(1, int(round(share * len(subjects)))) if len(subjects) > 1 else 0
        rng = np.random.default_rng(fold_seed(seed, f"{f.name}/inner-val"))
        val = set(rng.choice(subjects, size=n_val, replace=False).tolist()) if n_val else set()
        is_val = np.array([groups[i] in val for i in f.train_idx], dtype=bool)
        out.append(Fold(f.name, f.train_idx[~is_val], f.test_idx, f.train_idx[is_val]))
    return out
