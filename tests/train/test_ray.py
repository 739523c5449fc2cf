"""The Ray executor on a real local Ray instance: the same jobs, results and files as the local ones."""

import json
import os
from pathlib import Path

from prepared_builders import EPOCHS, TINY, shared_data, shared_runs
from test_runner import assert_same_predictions

from fsr_cli.train.executor import JobFailed, RayExecutor
from fsr_cli.train.runner import Reporter, TrainConfig, plan_run
from fsr_cli.train.seeds import train_run


def square_job(shared, job, progress):
    progress(1, 2)
    progress(2, 2)
    return job * job + shared["offset"], os.getpid()


def flaky_job(shared, job, progress):
    """Fails its first attempt (a marker file remembers it), then succeeds; job 'never' always fails."""
    if job == "never":
        raise RuntimeError("this job cannot succeed")
    marker = Path(shared) / f"{job}.tried"
    if not marker.exists():
        marker.write_text("first attempt")
        raise OSError("transient failure")
    return job


def test_ray_executor_runs_jobs_as_tasks_and_forwards_progress(ray_local):
    ex = RayExecutor()
    seen = []
    out = dict(ex.map(square_job, [2, 3, 4], shared={"offset": 100}, on_progress=lambda *a: seen.append(a)))
    assert {k: v[0] for k, v in out.items()} == {0: 104, 1: 109, 2: 116}
    assert os.getpid() not in {v[1] for v in out.values()}
    assert sorted(seen) == sorted((i, k, 2) for i in range(3) for k in (1, 2))
    desc = ex.describe()
    assert desc["executor"] == "ray" and desc["workers"] == 2 and desc["cluster"]["CPU"] == 2
    assert desc["ray_version"] == ray_local.__version__
    ex.close()
    assert ray_local.is_initialized()  # it joined an instance it did not start: left running


def test_a_failed_task_is_retried_then_reported_and_the_others_finish(ray_local, tmp_path):
    out = dict(RayExecutor().map(flaky_job, ["a", "never", "b"], shared=str(tmp_path)))
    assert out[0] == "a" and out[2] == "b"  # each failed once and succeeded on its retry
    assert (tmp_path / "a.tried").is_file() and (tmp_path / "b.tried").is_file()
    assert isinstance(out[1], JobFailed) and "this job cannot succeed" in out[1].reason


def test_ray_training_gives_the_local_predictions_and_records_the_cluster(ray_local, tmp_path):
    cfg = TrainConfig(
        datasets=shared_data(), protocol="loso", epochs=EPOCHS, model_overrides=TINY, executor="ray"
    )
    run = tmp_path / "ray"
    run.mkdir()
    done = []
    reporter = Reporter(fold_done=lambda name, skipped: done.append(name))
    train_run(plan_run(cfg), run=run, argv=["fsr", "train"], reporter=reporter)
    assert_same_predictions(run, shared_runs()["soa"])
    assert sorted(done) == ["casme2/01", "casme2/02", "casme2/03", "samm/006", "samm/007"]
    execution = json.loads((run / "env.json").read_text())["execution"]
    assert execution["executor"] == "ray" and execution["ray_version"] == ray_local.__version__
    assert execution["cluster"]["CPU"] == 2 and execution["device"] == "auto"
