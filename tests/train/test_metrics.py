import numpy as np
import pytest

from fsr_cli.evaluation import pooled_metrics, score

CLASSES = ["negative", "positive", "surprise"]


def test_all_classes_present_hand_computed():
    # negative: P 1, R 2/3, F1 0.8; positive: P .5, R .5, F1 .5; surprise: P .5, R 1, F1 2/3
    doc = score([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], labels=CLASSES)
    assert doc["uf1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3, abs=1e-6)
    assert doc["uar"] == pytest.approx((2 / 3 + 0.5 + 1) / 3, abs=1e-6)
    assert doc["acc"] == pytest.approx(4 / 6, abs=1e-6)
    assert doc["absent_classes"] == []
    assert "note" not in doc
    assert doc["per_class"]["negative"] == {"f1": 0.8, "recall": 0.666667, "precision": 1.0, "support": 3}
    assert doc["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_absent_class_is_reported_and_left_out_of_the_means():
    # surprise never occurs in the truth, but is predicted once (an error against 'negative').
    doc = score([0, 0, 1, 1], [0, 2, 1, 1], labels=CLASSES)
    assert doc["absent_classes"] == ["surprise"]
    assert doc["per_class"]["surprise"]["f1"] is None
    assert doc["per_class"]["surprise"]["recall"] is None
    assert doc["uf1"] == pytest.approx((2 / 3 + 1.0) / 2, abs=1e-6)
    assert doc["uar"] == pytest.approx((0.5 + 1.0) / 2, abs=1e-6)
    assert doc["acc"] == pytest.approx(0.75)
    assert doc["confusion"] == [[1, 0, 1], [0, 2, 0], [0, 0, 0]]
    assert doc["note"].startswith("surprise absent from the truth")
    assert "2 of 3 classes" in doc["note"]


def test_no_samples_gives_nulls_not_zeros():
    doc = score([], [], labels=CLASSES)
    assert (doc["uf1"], doc["uar"], doc["acc"], doc["n_samples"]) == (None, None, None, 0)
    assert doc["absent_classes"] == CLASSES


def test_pooled_per_dataset_and_per_fold():
    y_true = np.array([0, 1, 2, 0, 1, 1])
    y_pred = np.array([0, 1, 2, 1, 1, 1])
    dataset = np.array(["casme2"] * 3 + ["samm"] * 3)
    fold = np.array(["casme2/01", "casme2/01", "casme2/02", "samm/006", "samm/006", "samm/007"])
    doc = pooled_metrics(y_true=y_true, y_pred=y_pred, classes=CLASSES, dataset=dataset, fold=fold)
    assert doc["acc"] == pytest.approx(5 / 6, abs=1e-6)
    assert doc["per_dataset"]["casme2"]["uf1"] == 1.0
    # samm: negative F1 0 (R 0), positive F1 0.8 (P 2/3, R 1); surprise absent
    assert doc["per_dataset"]["samm"]["uf1"] == pytest.approx(0.4)
    assert doc["per_dataset"]["samm"]["absent_classes"] == ["surprise"]
    assert set(doc["per_fold"]) == {"casme2/01", "casme2/02", "samm/006", "samm/007"}
    assert doc["per_fold"]["casme2/02"] == {
        "uf1": 1.0,
        "uar": 1.0,
        "acc": 1.0,
        "n_samples": 1,
        "absent_classes": ["negative", "positive"],
        "note": doc["per_fold"]["casme2/02"]["note"],
    }
    assert "confusion" not in doc["per_fold"]["samm/006"]
