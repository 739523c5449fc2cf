"""Baseline presets (svm-flow, ststnet), several seeds in one run, inner validation, paired bootstrap."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from prepared_builders import EPOCHS, TINY, shared_data
from sklearn.metrics import f1_score

from fsr_cli.errors import UsageError
from fsr_cli.evaluation import evaluate_run, paired_bootstrap, uf1_interval
from fsr_cli.model.config import load_preset
from fsr_cli.model.network import build_model
from fsr_cli.train import rundir
from fsr_cli.train.protocols import inner_val_folds
from fsr_cli.train.resume import config_from_run
from fsr_cli.train.rundir import seed_dir
from fsr_cli.train.runner import Reporter, TrainConfig, plan_run
from fsr_cli.train.seeds import parse_seeds, train_run
from fsr_cli.train.selection import select_epoch


def run(path: Path, **kw) -> dict:
    base = {"datasets": shared_data(), "protocol": "loso", "epochs": EPOCHS, "model_overrides": TINY}
    path.mkdir(parents=True, exist_ok=True)
    return train_run(plan_run(TrainConfig(**{**base, **kw})), run=path, argv=["fsr", "train"])


def preds(path: Path) -> dict:
    return rundir.read_predictions(path / "predictions.csv")


def test_svm_flow_is_the_sklearn_svm_per_fold(tmp_path):
    from sklearn.svm import SVC

    m = run(tmp_path / "svm", model="svm-flow", epochs=None, model_overrides={"flow_size": 16})
    plan = plan_run(
        TrainConfig(
            datasets=shared_data(), protocol="loso", model="svm-flow", model_overrides={"flow_size": 16}
        )
    )
    x, y = plan.feats.flow.reshape(len(plan.feats), -1).astype(np.float64), plan.feats.y
    p = preds(tmp_path / "svm")
    for fold in plan.folds:
        svm = SVC(C=10.0, gamma="scale", class_weight="balanced").fit(x[fold.train_idx], y[fold.train_idx])
        dec = svm.decision_function(x[fold.test_idx])
        mine = p["probs"][fold.test_idx]
        assert (mine.argmax(1) == svm.classes_[dec.argmax(1)]).all()
    assert m["selection"].startswith("one fit") and not m["leakage"]
    assert not (rundir.fold_dir(tmp_path / "svm", plan.folds[0].name) / "model.pt").exists()
    assert json.loads((tmp_path / "svm" / "theta.json").read_text())["soa"] == "none"


def test_svm_flow_std_reads_each_samples_standardised_pooled_flow(tmp_path):
    from sklearn.svm import SVC

    from fsr_cli.train.baselines import svm_inputs

    cfg = load_preset("svm-flow-std", flow_size=16)
    rng = np.random.default_rng(0)
    flow = rng.normal(size=(4, 3, 16, 16))
    rows = svm_inputs(cfg, flow)
    assert rows.shape == (4, 3 * 8 * 8)
    gain, offset = rng.uniform(0.5, 3, (4, 3, 1, 1)), rng.normal(size=(4, 3, 1, 1))
    np.testing.assert_allclose(svm_inputs(cfg, flow * gain + offset), rows, atol=1e-6)  # per sample
    z = (flow[0, 1] - flow[0, 1].mean()) / flow[0, 1].std()
    np.testing.assert_allclose(rows[0, 64:128], z.reshape(8, 2, 8, 2).mean((1, 3)).ravel(), atol=1e-6)
    with pytest.raises(UsageError, match="svm_pool must be >= 1 and divide flow_size 16"):
        load_preset("svm-flow-std", flow_size=16, svm_pool=3)

    run(tmp_path / "svm", model="svm-flow-std", epochs=None, model_overrides={"flow_size": 16})
    plan = plan_run(
        TrainConfig(
            datasets=shared_data(), protocol="loso", model="svm-flow-std", model_overrides={"flow_size": 16}
        )
    )
    x, y, p = svm_inputs(cfg, plan.feats.flow), plan.feats.y, preds(tmp_path / "svm")
    for fold in plan.folds:
        svm = SVC(C=1.0, gamma="scale", class_weight="balanced").fit(x[fold.train_idx], y[fold.train_idx])
        assert (p["probs"][fold.test_idx].argmax(1) == svm.predict(x[fold.test_idx])).all()


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"select": "test-oracle"}, "--select test-oracle"),
        ({"epochs": 5}, "--epochs 5"),
        ({"final": True}, "--final"),
    ],
)
def test_svm_flow_refuses_options_it_cannot_honour(kw, says):
    with pytest.raises(UsageError, match=says):
        plan_run(TrainConfig(datasets=shared_data(), protocol="loso", model="svm-flow", **kw))


def test_ststnet_is_the_papers_shape():
    cfg = load_preset("ststnet")
    model = build_model(cfg)
    assert model(torch.zeros(2, 3, 28, 28), torch.zeros(2, 1, 32, 32)).shape == (2, 3)
    assert [c.out_channels for c in model.convs] == [3, 5, 8]
    assert model.head.in_features == 16 * 5 * 5  # 28 -> conv pad 2 -> 30 -> max-pool /3 -> 10 -> avg /2 -> 5
    assert model.thetas_deg() == []


def test_parse_seeds():
    assert parse_seeds("0,1, 2") == (0, 1, 2)
    for bad, says in (("", "empty"), ("0,0", "repeats"), ("a,1", "whole numbers"), ("-1,2", ">= 0")):
        with pytest.raises(UsageError, match=says):
            parse_seeds(bad)


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("seeds") / "run"
    return path, run(path, seeds=(0, 1))


def test_seeds_keep_each_seed_and_average_their_probabilities(two_seeds):
    path, metrics = two_seeds
    p0, p1, top = preds(seed_dir(path, 0)), preds(seed_dir(path, 1)), preds(path)
    assert not np.allclose(p0["probs"], p1["probs"])  # the seeds differ
    np.testing.assert_allclose(top["probs"], (p0["probs"] + p1["probs"]) / 2, atol=2e-6)
    assert rundir.read_config(seed_dir(path, 1))["seed"] == 1
    sd = metrics["seeds"]
    per = [evaluate_run(seed_dir(path, s))["uf1"] for s in (0, 1)]
    assert [sd["per_seed"][s]["uf1"] for s in ("0", "1")] == per
    assert sd["mean"]["uf1"] == pytest.approx(np.mean(per), abs=1e-4)
    assert sd["std"]["uf1"] == pytest.approx(np.std(per), abs=1e-4)
    again = evaluate_run(path)  # evaluate reproduces the run's metrics
    assert again["seeds"] == sd and again["uf1"] == metrics["uf1"]
    theta = json.loads((path / "theta.json").read_text())
    assert len(theta["folds"]) == 2 * len(metrics["per_fold"]) and "seed-1/casme2/01" in theta["folds"]


def test_seeds_table_keeps_row_names_and_whole_figures_at_80_columns(two_seeds):
    from rich.console import Console

    from fsr_cli.evaluation.report import seeds_table

    _, metrics = two_seeds
    console = Console(width=80, record=True)
    console.print(seeds_table(metrics))
    text = console.export_text()
    assert all(row in text for row in ("mean +/- std", "ensemble", "│ 0 ", "│ 1 "))
    assert "…" not in text.split("┡")[1]  # no figure cut short (a header may be)
    assert f"{metrics['seeds']['std']['uf1']:.3f}" in text


def test_seeds_resume_to_the_same_result(two_seeds, tmp_path):
    path, metrics = two_seeds
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    shutil.rmtree(seed_dir(copy, 1))  # as if killed before the second seed
    (copy / "predictions.csv").unlink()
    cfg = config_from_run(copy, {})
    assert cfg.seeds == (0, 1)
    done = []
    train_run(
        plan_run(cfg),
        run=copy,
        resume=True,
        reporter=Reporter(fold_done=lambda f, skipped: done.append(skipped)),
    )
    assert done.count(True) == len(metrics["per_fold"])  # seed 0's folds were not trained again
    np.testing.assert_allclose(preds(copy)["probs"], preds(path)["probs"], atol=1e-4)


def test_inner_val_holds_training_subjects_out(tmp_path):
    plan = plan_run(TrainConfig(datasets=shared_data(), protocol="loso", model_overrides=TINY))
    groups = plan.feats.groups
    for f in inner_val_folds(plan.folds, plan.feats, seed=0, share=0.2):
        assert len(f.val_idx) > 0
        tr, va, te = (set(groups[i]) for i in (f.train_idx, f.val_idx, f.test_idx))
        assert not (tr & va) and not (va & te) and not (tr & te)
    m = run(tmp_path / "iv", select="inner-val")
    assert m["selection"].startswith("inner-val") and not m["leakage"]
    z = rundir.read_probs(rundir.fold_dir(tmp_path / "iv", "casme2/01") / "probs.npz")
    assert z["val_probs_each_epoch"].shape[:2] == (EPOCHS, len(z["val_idx"]))


def test_inner_val_takes_the_epoch_best_on_validation():
    y_val = np.array([0, 1, 2])
    val = np.stack([np.eye(3)[[0, 0, 0]], np.eye(3)[[0, 1, 2]], np.eye(3)[[1, 1, 1]]])  # epoch 2 is right
    test = np.stack([np.full((2, 3), e) for e in range(3)]).astype(float)
    probs, epoch = select_epoch(
        "inner-val",
        test_probs=test[-1],
        probs_each_epoch=test,
        y_test=np.array([0, 0]),
        val_probs_each_epoch=val,
        y_val=y_val,
    )
    assert epoch == 1 and (probs == 1).all()


def test_paired_bootstrap(two_seeds):
    path, metrics = two_seeds
    a = {"classes": metrics["classes"], "preds": preds(path)}
    same = paired_bootstrap(a, a, run_a="a", run_b="a")
    assert same["uf1_diff"] == 0 and same["ci95"] == [0, 0]
    b = {"classes": metrics["classes"], "preds": preds(seed_dir(path, 0))}
    d = paired_bootstrap(a, b, run_a="a", run_b="b", draws=500)
    assert d["uf1_diff"] == pytest.approx(metrics["uf1"] - evaluate_run(seed_dir(path, 0))["uf1"], abs=1e-3)
    assert d["ci95"][0] <= d["uf1_diff"] <= d["ci95"][1] and d["n_subjects"] == 5
    perfect = {"classes": metrics["classes"], "preds": {**a["preds"], "pred": a["preds"]["true"]}}
    constant = np.full(len(a["preds"]["true"]), metrics["classes"][0])  # every sample called negative
    one_class = {"classes": metrics["classes"], "preds": {**a["preds"], "pred": constant}}
    better = paired_bootstrap(perfect, one_class, run_a="p", run_b="c", draws=500)
    assert better["ci95"][0] > 0 and better["p_a_not_better"] == 0
    other = {"classes": metrics["classes"], "preds": {k: v[:0] for k, v in a["preds"].items()}}
    with pytest.raises(UsageError, match="share no sample"):
        paired_bootstrap(other, a, run_a="o", run_b="a")


def test_uf1_interval_is_a_bootstrap_over_subjects(two_seeds):
    # Subject s has 3 samples; subjects 0-9 are all right, subjects 10-19 all wrong (class 0 called 1).
    y = np.repeat(np.arange(20) % 3, 3)
    p = np.where(np.repeat(np.arange(20), 3) < 10, y, (y + 1) % 3)
    subjects = np.repeat(np.arange(20), 3).astype(str)
    lo, hi = uf1_interval(y, p, subjects, 3)
    point = f1_score(y, p, average="macro")
    assert lo < point < hi and hi - lo > 0.2  # half the subjects wrong: wide
    assert uf1_interval(y, p, np.zeros(60, str), 3) == [round(point, 4)] * 2  # one subject: no spread
    assert uf1_interval(y, y, subjects, 3) == [1.0, 1.0]
    assert uf1_interval(y[:0], y[:0], subjects[:0], 3) is None
    path, metrics = two_seeds
    doc = evaluate_run(path)  # the run's figures carry the interval, pooled and per dataset
    assert doc["uf1_ci95"][0] <= doc["uf1"] <= doc["uf1_ci95"][1]
    assert all(m["uf1_ci95"][0] <= m["uf1"] <= m["uf1_ci95"][1] for m in doc["per_dataset"].values())
    assert "UF1 95 % interval" in (path / "report.md").read_text()


def test_seeds_in_resolved_config_not_the_single_seed(two_seeds):
    doc = rundir.read_config(two_seeds[0])
    assert doc["seeds"] == [0, 1] and doc["seed"] is None
    assert replace(config_from_run(two_seeds[0], {}), seeds=()).seed == 0
