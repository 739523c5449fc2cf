import numpy as np
import pytest

from fsr_cli.errors import UsageError
from fsr_cli.train.selection import LEAKAGE_LABEL, is_leaky, select_epoch, selection_label


def test_labels():
    assert selection_label("last", epochs=30) == "last epoch (fixed budget of 30 epochs; honest)"
    assert not is_leaky(selection_label("last", epochs=30))
    assert selection_label("test-oracle", epochs=30) == LEAKAGE_LABEL
    assert is_leaky(LEAKAGE_LABEL) and LEAKAGE_LABEL.startswith("test-oracle (LEAKAGE")
    msg = "unknown --select 'best'; choose one of: last, inner-val, test-oracle"
    with pytest.raises(UsageError, match=msg):
        selection_label("best", epochs=3)


def _probs(preds, n_classes=3):
    return np.eye(n_classes)[preds]


def test_last_uses_the_final_epoch_and_oracle_the_best_test_epoch():
    y = np.array([0, 1, 2])
    each = np.stack([_probs([0, 0, 0]), _probs([0, 1, 2]), _probs([0, 1, 1])])  # (E=3, n=3, C=3)
    probs, epoch = select_epoch("last", test_probs=each[-1], probs_each_epoch=each, y_test=y)
    assert epoch is None and np.array_equal(probs, each[-1])
    probs, epoch = select_epoch("test-oracle", test_probs=each[-1], probs_each_epoch=each, y_test=y)
    assert epoch == 1 and np.array_equal(probs, each[1])


def test_oracle_ties_take_the_earliest_epoch():
    y = np.array([0, 1])
    each = np.stack([_probs([1, 1]), _probs([0, 0]), _probs([0, 0])])
    assert select_epoch("test-oracle", test_probs=each[-1], probs_each_epoch=each, y_test=y)[1] == 0


def test_oracle_without_recorded_epochs_is_a_usage_error():
    with pytest.raises(UsageError, match="needs per-epoch test predictions"):
        select_epoch("test-oracle", test_probs=_probs([0]), probs_each_epoch=None, y_test=np.array([0]))


def test_axial_statistics_wrap_at_180_degrees():
    import numpy as np

    from fsr_cli.train.theta import axial_stats

    mean, std = axial_stats(np.array([179.0, 1.0]))
    assert min(mean, 180 - mean) < 1e-6  # 0 / 180, never the linear 90
    assert abs(std - 1.0) < 0.01
    mean, std = axial_stats(np.array([88.0, 90.0, 92.0]))
    assert abs(mean - 90) < 1e-9 and 1.6 < std < 1.7  # close to the linear std (1.63) when not wrapping
