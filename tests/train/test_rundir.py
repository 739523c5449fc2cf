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
    inside = rundir.fold_dir(tmp_path, "x/../a b")
    assert inside.parent.parent == tmp_path / "folds" / "x"  # stays inside RUN
    assert inside.name.startswith("a_b-") and inside.parent.name.startswith("_-")


def test_subjects_that_sanitise_alike_get_distinct_fold_folders(tmp_path):
    # issue 29 item 6: `s 1`, `s_1` and `s:1` all became folds/casme2/s_1 and overwrote each other
    dirs = [rundir.fold_dir(tmp_path, f"casme2/{s}") for s in ("s 1", "s_1", "s:1", "s/1")]
    assert len(set(dirs)) == 4
    assert dirs[1] == tmp_path / "folds" / "casme2" / "s_1"  # a safe name is kept as it is
    assert all(d.name.startswith("s_1-") for d in (dirs[0], dirs[2]))


def test_run_files_respect_the_umask(tmp_path):
    # issue 29 item 18: run files were 0600 (mkstemp's mode) under a umask of 022
    import os
    import stat

    old = os.umask(0o022)
    try:
        rundir.write_yaml(tmp_path / "config.yaml", {"a": 1})
        rundir.write_json(tmp_path / "metrics.json", {"a": 1})
    finally:
        os.umask(old)
    assert {stat.S_IMODE((tmp_path / f).stat().st_mode) for f in ("config.yaml", "metrics.json")} == {0o644}


def test_a_yaml_alias_bomb_in_config_is_refused_without_expanding_it(tmp_path):
    # issue 29 item 16: nine levels of nine aliases would expand to 9**9 values
    from fsr_cli.errors import FsrError

    lines = ["format: fsr-run", "version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(FsrError, match=r"config.yaml: YAML alias \*a0 \(line 4\); fsr writes no aliases"):
        rundir.read_config(tmp_path)
    (tmp_path / "config.yaml").write_text("x" * (2 << 20))
    with pytest.raises(FsrError, match="more than fsr writes or reads"):
        rundir.read_config(tmp_path)


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
