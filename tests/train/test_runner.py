import json
import re
import socket
from pathlib import Path

import numpy as np
import pytest
from prepared_builders import EPOCHS, TINY, shared_data, shared_runs

from fsr_cli.errors import UsageError
from fsr_cli.evaluation import evaluate_run
from fsr_cli.train import rundir
from fsr_cli.train.resume import config_from_run
from fsr_cli.train.runner import Reporter, TrainConfig, plan_run, run_training


def config(**kw) -> TrainConfig:
    base = {"datasets": shared_data(), "protocol": "loso", "epochs": EPOCHS, "model_overrides": TINY}
    return TrainConfig(**{**base, **kw})


def train(run: Path, cfg: TrainConfig, *, resume=False) -> tuple[dict, list]:
    events = []
    run.mkdir(parents=True, exist_ok=True)
    metrics = run_training(
        plan_run(cfg),
        run=run,
        argv=["fsr", "train"],
        resume=resume,
        reporter=Reporter(fold_done=lambda name, skipped: events.append((name, skipped))),
    )
    return metrics, events


def assert_same_predictions(a: Path, b: Path) -> None:
    """Same rows, folds, epochs and predicted classes; probabilities equal up to float rounding.

    A fold trained alone or in a smaller chunk runs the same program on a different batch of
    folds, so batched kernels may round differently (~1e-6), as engine.py states.
    """
    pa, pb_ = rundir.read_predictions(a / "predictions.csv"), rundir.read_predictions(b / "predictions.csv")
    for col in ("dataset", "subject", "clip", "fold", "epoch", "true", "pred"):
        assert pa[col].tolist() == pb_[col].tolist()
    np.testing.assert_allclose(pa["probs"], pb_["probs"], atol=1e-4)


@pytest.fixture(scope="module")
def honest_run() -> tuple[Path, dict]:
    run = shared_runs()["soa"]
    return run, json.loads((run / "metrics.json").read_text())


def test_run_directory_contents(honest_run):
    run, metrics = honest_run
    folds = ["casme2/01", "casme2/02", "casme2/03", "samm/006", "samm/007"]
    for f in folds:
        assert {p.name for p in rundir.fold_dir(run, f).iterdir()} == {"model.pt", "history.csv", "probs.npz"}
        assert len(rundir.read_history(rundir.fold_dir(run, f) / "history.csv")) == EPOCHS
    for name in ("config.yaml", "env.json", "predictions.csv", "metrics.json", "theta.json", "report.md"):
        assert (run / name).stat().st_size > 0
    assert (run / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cfg = rundir.read_config(run)
    assert cfg["protocol"] == "loso" and cfg["labels"] == "composite" and cfg["folds"] == folds
    assert cfg["fit"]["epochs"] == EPOCHS and cfg["selection"]["mode"] == "last"
    assert cfg["model"]["n_classes"] == 3 and cfg["excluded"] == {
        "casme2": {"others": 6},
        "samm": {"other": 4},
    }
    env = json.loads((run / "env.json").read_text())
    assert set(env["versions"]) == {"fsr", "python", "torch", "numpy", "sklearn", "opencv"}
    assert [p["dataset"] for p in env["prepared"]] == ["casme2", "samm"]
    assert all(len(p["sha256"]) == 64 for p in env["prepared"])
    host = re.escape(socket.gethostname())  # as a word: a random temporary folder name may hold it
    assert not re.search(rf"(?<![A-Za-z0-9]){host}(?![A-Za-z0-9])", (run / "env.json").read_text())
    header = (run / "predictions.csv").read_text().splitlines()[0]
    assert header == "dataset,subject,clip,fold,epoch,true,pred,p_negative,p_positive,p_surprise"
    assert metrics["n_samples"] == 30 and len((run / "predictions.csv").read_text().splitlines()) == 31


def test_metrics_json_is_what_evaluate_recomputes_and_the_model_learns(honest_run):
    run, metrics = honest_run
    stored = json.loads((run / "metrics.json").read_text())
    assert stored == json.loads(json.dumps(metrics))
    again = evaluate_run(run)
    assert again.pop("run") == str(run)
    assert again == stored
    assert (
        stored["selection"] == f"last epoch (fixed budget of {EPOCHS} epochs; honest)"
        and not stored["leakage"]
    )
    assert set(stored["per_dataset"]) == {"casme2", "samm"} and len(stored["per_fold"]) == 5
    assert stored["uf1"] > 0.6  # chance is 1/3 on these class-dependent flows


def test_theta_json_has_every_fold_and_layer(honest_run):
    run, _ = honest_run
    doc = json.loads((run / "theta.json").read_text())
    assert set(doc["folds"]) == {"casme2/01", "casme2/02", "casme2/03", "samm/006", "samm/007"}
    for v in doc["folds"].values():
        assert len(v["final_deg"]) == doc["n_layers"] >= 1
        assert all(len(t) == EPOCHS and t[-1] == v["final_deg"][i] for i, t in enumerate(v["trajectory_deg"]))
    # the default's start, recorded (every layer at 90 degrees), and the angles learned from there
    starts = [tuple(v["start_deg"]) for v in doc["folds"].values()]
    assert set(starts) == {(90.0,) * doc["n_layers"]}
    first = doc["folds"]["casme2/01"]
    assert all(abs(a - b) > 1e-4 for a, b in zip(first["start_deg"], first["final_deg"], strict=True))
    import torch

    from fsr_cli.model.config import ModelConfig
    from fsr_cli.model.network import build_model
    from fsr_cli.train.foldwise import fold_seed

    config = rundir.read_config(run)
    torch.manual_seed(fold_seed(config["fit"]["seed"], "casme2/01"))  # as the engine builds the fold
    assert first["start_deg"] == build_model(ModelConfig.from_dict(config["model"])).thetas_deg()


def test_same_command_twice_gives_identical_predictions(honest_run, tmp_path):
    run, _ = honest_run
    train(tmp_path / "again", config())
    assert (tmp_path / "again" / "predictions.csv").read_bytes() == (run / "predictions.csv").read_bytes()


def test_resume_trains_only_unfinished_folds_and_ends_the_same(honest_run, tmp_path):
    run, _ = honest_run
    cut = tmp_path / "cut"
    train(cut, config())
    (rundir.fold_dir(cut, "samm/006") / "history.csv").unlink()  # killed while writing this fold
    for name in ("predictions.csv", "metrics.json"):
        (cut / name).unlink()
    _, events = train(cut, config_from_run(cut, {}), resume=True)
    assert sorted(events) == [
        ("casme2/01", True),
        ("casme2/02", True),
        ("casme2/03", True),
        ("samm/006", False),
        ("samm/007", True),
    ]
    assert_same_predictions(cut, run)


def test_resume_refuses_changed_options(honest_run):
    run, _ = honest_run
    with pytest.raises(UsageError, match=r"--resume .*: protocol 'lodo' differs from the run's 'loso'"):
        config_from_run(run, {"protocol": "lodo"})
    assert config_from_run(run, {"protocol": "loso", "epochs": EPOCHS}).epochs == EPOCHS


def test_test_oracle_is_labelled_leakage_and_never_below_last(honest_run, tmp_path):
    _, honest = honest_run
    oracle, _ = train(tmp_path / "oracle", config(select="test-oracle"))
    assert oracle["leakage"] and oracle["selection"].startswith("test-oracle (LEAKAGE")
    assert "**LEAKAGE**" in (tmp_path / "oracle" / "report.md").read_text()
    for fold, m in oracle["per_fold"].items():
        assert m["acc"] >= honest["per_fold"][fold]["acc"]
    epochs = {
        int(r.split(",")[4]) for r in (tmp_path / "oracle" / "predictions.csv").read_text().splitlines()[1:]
    }
    assert epochs <= set(range(1, EPOCHS + 1))


def test_lodo_and_final(tmp_path):
    metrics, _ = train(tmp_path / "lodo", config(protocol="lodo", final=True))
    assert set(metrics["per_fold"]) == {"casme2", "samm"}
    assert rundir.is_finished(tmp_path / "lodo" / "final")
    assert np.isfinite(metrics["acc"])
    from fsr_cli.model.checkpoint import load_checkpoint

    model, ckpt = load_checkpoint(tmp_path / "lodo" / "final" / "model.pt")  # what `fsr predict` loads
    assert ckpt["classes"] == ["negative", "positive", "surprise"] and ckpt["extra"]["fold"] == "final"
    assert len(json.loads((tmp_path / "lodo" / "theta.json").read_text())["final"]["final_deg"]) == 2


def test_two_worker_processes_give_the_same_predictions(honest_run, tmp_path):
    run, _ = honest_run
    train(tmp_path / "w2", config(workers=2))
    assert_same_predictions(tmp_path / "w2", run)
    assert json.loads((tmp_path / "w2" / "env.json").read_text())["workers"] == 2


def test_resume_refuses_a_changed_model(honest_run, tmp_path):
    import dataclasses
    import shutil

    run, _ = honest_run
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    changed = dataclasses.replace(config_from_run(copy, {}), model_overrides={**TINY, "fuse_dim": 24})
    with pytest.raises(UsageError, match=r"the model preset changed since this run started \(fuse_dim\)"):
        train(copy, changed, resume=True)


def test_a_broken_config_yaml_is_one_line_naming_it(honest_run, tmp_path):
    import shutil

    from fsr_cli.errors import FsrError

    copy = shutil.copytree(honest_run[0], tmp_path / "copy")
    (copy / "config.yaml").write_text("protocol: loso\nfolds: [casme2/01\n  model: {")
    with pytest.raises(FsrError, match=r"config.yaml: not valid YAML \(line \d+\); the run folder is"):
        config_from_run(copy, {})


def test_a_failed_chunk_is_reported_by_fold_after_the_others_are_saved(tmp_path):
    from fsr_cli.errors import FsrError
    from fsr_cli.train.engine import Fold
    from fsr_cli.train.executor import ProcessExecutor
    from fsr_cli.train.runner import train_folds

    plan = plan_run(config())
    good = plan.folds[:3]
    bad = Fold("casme2/bad", np.arange(0, dtype=np.int64), np.arange(1, dtype=np.int64))  # no training data
    targets = [(f, rundir.fold_dir(tmp_path, f.name)) for f in [*good, bad]]
    done = []
    with pytest.raises(FsrError) as err:
        train_folds(
            plan.feats,
            targets,
            mcfg=plan.mcfg,
            fit=plan.fit,
            executor=ProcessExecutor(2),  # chunks [f0, f1] and [f2, bad]: the second fails
            reporter=Reporter(fold_done=lambda name, skipped: done.append(name)),
            extra={},
        )
    assert str(err.value).startswith("2 fold(s) failed (casme2/03, casme2/bad): UsageError: fold casme2/bad")
    assert "the other folds are saved" in str(err.value)
    assert done == ["casme2/01", "casme2/02"]
    assert all(rundir.is_finished(rundir.fold_dir(tmp_path, f.name)) for f in good[:2])
    assert not rundir.fold_dir(tmp_path, "casme2/03").exists()


def test_a_non_finite_flow_is_refused_naming_the_sample(tmp_path):
    # issue 29 item 5: NaN or inf in a flow entry trained to NaN probabilities, scored with exit 0
    from prepared_builders import CASME2_EMOTIONS, make_prepared

    from fsr_cli.errors import FsrError
    from fsr_cli.prepared import load_prepared

    root = make_prepared(tmp_path / "c", dataset="casme2", subjects=["01", "02"], emotions=CASME2_EMOTIONS)
    pset = load_prepared(root)
    victim = pset.samples[3]
    path = pset.root / victim.entry / "arrays.npz"
    arrays = dict(np.load(path))
    arrays["flow"][1, 2, 2] = np.inf
    np.savez(path, **arrays)
    with pytest.raises(FsrError, match=f"the flow of {victim.uid} holds NaN or inf values"):
        plan_run(TrainConfig(datasets=(root,), protocol="loso"))


def test_an_edited_preset_is_recorded_and_never_shown_as_the_shipped_one(tmp_path):
    # issue 29 item 22: an edited preset kept `name: facesleuth-r`, so its runs looked like the default's
    import yaml

    from fsr_cli.model.config import PRESETS_DIR

    doc = yaml.safe_load((PRESETS_DIR / "motion-only.yaml").read_text())
    doc["train"]["lr"] = 0.001
    edited = tmp_path / "mine.yaml"
    edited.write_text(yaml.safe_dump(doc))
    run = tmp_path / "run"
    run.mkdir()
    cfg = TrainConfig(datasets=shared_data(), protocol="loso", model=str(edited), epochs=1)
    metrics = run_training(plan_run(cfg), run=run, argv=["fsr"])
    preset = rundir.read_config(run)["preset"]
    assert (
        preset["file"] == str(edited.resolve()) and preset["edited"] is True and len(preset["sha256"]) == 64
    )
    assert metrics["model"] == "motion-only (edited: mine.yaml)" == evaluate_run(run)["model"]
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    cfg = TrainConfig(datasets=shared_data(), protocol="loso", model="motion-only", epochs=1)
    assert run_training(plan_run(cfg), run=shipped, argv=["fsr"])["model"] == "motion-only"
