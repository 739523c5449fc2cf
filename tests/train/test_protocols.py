import numpy as np
import pytest

from fsr_cli.errors import UsageError
from fsr_cli.train.features import Features
from fsr_cli.train.protocols import make_folds


def features(rows: list[tuple[str, str]]) -> Features:
    n = len(rows)
    return Features(
        flow=np.zeros((n, 3, 4, 4), np.float32),
        app=np.zeros((n, 1, 4, 4), np.float32),
        y=np.arange(n, dtype=np.int64) % 3,
        classes=("negative", "positive", "surprise"),
        dataset=np.array([d for d, _ in rows]),
        subject=np.array([s for _, s in rows]),
        clip=np.array([f"c{i}" for i in range(n)]),
    )


# Subject '01' exists in both datasets: under the composite protocol they are two people.
ROWS = [("casme2", "01")] * 3 + [("casme2", "02")] * 2 + [("samm", "01")] * 2 + [("samm", "006")] * 4


def assert_partition(folds, n):
    tested = np.concatenate([f.test_idx for f in folds])
    assert sorted(tested.tolist()) == list(range(n))  # every sample tested exactly once
    for f in folds:
        assert set(f.train_idx.tolist()).isdisjoint(f.test_idx.tolist())
        assert len(f.train_idx) + len(f.test_idx) == n


def test_loso_one_fold_per_dataset_subject_and_no_subject_leak():
    feats = features(ROWS)
    folds = make_folds(feats, "loso")
    assert [f.name for f in folds] == ["casme2/01", "casme2/02", "samm/006", "samm/01"]
    assert_partition(folds, len(ROWS))
    groups = feats.groups
    for f in folds:
        assert set(groups[f.test_idx]) == {f.name}
        assert f.name not in set(groups[f.train_idx])  # the test subject never trains its own fold
    samm01 = folds[3]
    assert samm01.test_idx.tolist() == [5, 6]
    assert {0, 1, 2} <= set(samm01.train_idx.tolist())  # casme2 '01' is another person: it trains


def test_lodo_one_fold_per_dataset():
    feats = features(ROWS)
    folds = make_folds(feats, "lodo")
    assert [f.name for f in folds] == ["casme2", "samm"]
    assert_partition(folds, len(ROWS))
    for f in folds:
        assert set(feats.dataset[f.test_idx]) == {f.name}
        assert f.name not in set(feats.dataset[f.train_idx])


def test_bad_protocols():
    with pytest.raises(UsageError, match=r"^loso needs at least 2 subjects; the data has only 'casme2/01'"):
        make_folds(features([("casme2", "01")] * 4), "loso")
    with pytest.raises(UsageError, match=r"^lodo needs at least 2 datasets; got only 'casme2'; give several"):
        make_folds(features([("casme2", "01"), ("casme2", "02")]), "lodo")
    with pytest.raises(UsageError, match=r"^unknown protocol 'kfold'; choose one of: loso, lodo$"):
        make_folds(features(ROWS), "kfold")
