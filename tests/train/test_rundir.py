import numpy as np
import pytest

from fsr_cli.errors import UsageError
from fsr_cli.train import rundir


def test_next_run_dir_counts_up(tmp_path):
    base = tmp_path / "runs" / "train"
    assert [rundir.next_run_dir(base).name for _ in range(3)] == ["exp", "exp2", "exp3"]


def test_fold_dirs_mirror_fold_names_and_are_path_safe(tmp_path):
    assert rundir.fold_dir(tmp_path, "casme2/01") == tmp_path / "folds" / "casme2" / "01"
    assert rundir.fold_dir(tmp_path, "samm") == tmp_path / "folds" / "samm"
    assert rundir.fold_dir(tmp_path, "x/../a b") == tmp_path / "folds" / "x" / "_" / "a_b"  # stays inside RUN


def test_history_round_trip(tmp_path):
    hist = [
        {"epoch": 1, "loss": 1.25, "train_acc": 0.5, "theta_deg": [90.0, 45.5]},
        {"epoch": 2, "loss": 0.75, "train_acc": 0.75, "theta_deg": [89.5, 46.0], "test_acc": 0.5},
    ]
    rundir.write_history(tmp_path / "h.csv", hist)
    assert (tmp_path / "h.csv").read_text().splitlines()[
        0
    ] == "epoch,loss,train_acc,theta_deg_0,theta_deg_1,test_acc"
    back = rundir.read_history(tmp_path / "h.csv")
    assert back[0] == hist[0]
    assert back[1] == hist[1]


def test_history_without_angles(tmp_path):
    rundir.write_history(tmp_path / "h.csv", [{"epoch": 1, "loss": 0.5, "train_acc": 1.0, "theta_deg": []}])
    assert rundir.read_history(tmp_path / "h.csv") == [
        {"epoch": 1, "loss": 0.5, "train_acc": 1.0, "theta_deg": []}
    ]


def test_predictions_round_trip(tmp_path):
    rows = [
        {
            "dataset": "casme2",
            "subject": "01",
            "clip": "EP02_01f",
            "fold": "casme2/01",
            "epoch": 3,
            "true": "positive",
            "pred": "negative",
            "probs": [0.5, 0.25, 0.25],
        }
    ]
    rundir.write_predictions(tmp_path / "p.csv", rows, ["negative", "positive", "surprise"])
    cols = rundir.read_predictions(tmp_path / "p.csv")
    assert cols["clip"].tolist() == ["EP02_01f"] and cols["subject"].tolist() == ["01"]
    assert cols["prob_classes"].tolist() == ["negative", "positive", "surprise"]
    np.testing.assert_allclose(cols["probs"], [[0.5, 0.25, 0.25]])


def test_read_config_refuses_other_folders_and_versions(tmp_path):
    with pytest.raises(UsageError, match="not a training run"):
        rundir.read_config(tmp_path)
    rundir.write_yaml(tmp_path / "config.yaml", {"format": "fsr-run", "version": 99})
    with pytest.raises(UsageError, match=r"run format 'fsr-run' v99 is not fsr-run v1; train it again"):
        rundir.read_config(tmp_path)


def test_a_fixed_angle_has_a_zero_spread_not_minus_zero():
    import math

    import numpy as np

    from fsr_cli.train.theta import axial_stats

    mean, std = axial_stats(np.full((5, 3), 90.0))
    assert mean.tolist() == [90.0] * 3 and std.tolist() == [0.0] * 3
    assert not any(math.copysign(1, s) < 0 for s in std)
