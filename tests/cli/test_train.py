import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import prepared_builders as pb  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return pb.shared_data()


@pytest.mark.slow
def test_train_json_prints_metrics_writes_the_run_and_resumes(data, tmp_path):
    run = tmp_path / "run"
    model = str(pb.tiny_preset(tmp_path))
    args = ("train", *map(str, data), "--protocol", "loso", "--epochs", "2", "--model", model, "--json")
    r = pb.run_fsr(*args, "--out", str(run))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # stdout is exactly one JSON document
    assert doc["selection"] == "last epoch (fixed budget of 2 epochs; honest)" and doc["leakage"] is False
    assert set(doc["per_dataset"]) == {"casme2", "samm"}
    assert set(doc["per_fold"]) == {"casme2/01", "casme2/02", "casme2/03", "samm/006", "samm/007"}
    assert 0 <= doc["uf1"] <= 1 and doc["n_samples"] == 30
    assert json.loads((run / "metrics.json").read_text()) == doc
    assert "fold samm/007: done" in r.stderr and "pooled" in r.stderr and f"run saved to {run}" in r.stderr
    # Resume a finished run: every fold is skipped and the pooled outputs come out the same.
    again = pb.run_fsr(*args, "--resume", str(run))
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("finished earlier, skipped") == 5 and json.loads(again.stdout) == doc
    r = pb.run_fsr("train", "--resume", str(run), "--seed", "7")
    assert r.returncode == 2 and "seed 7 differs from the run's 0" in r.stderr


def bad(*args, cwd=None):
    r = pb.run_fsr("train", *args, cwd=cwd)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # one line naming the fix
    return lines[0]


@pytest.mark.slow
def test_bad_inputs_are_one_line_usage_errors(data, tmp_path):
    casme2, samm = map(str, data)
    (tmp_path / "raw").mkdir()
    line = bad(str(tmp_path / "raw"), "--protocol", "loso")
    assert (
        line == f"error: {tmp_path / 'raw'}: not preprocessed (no prepared.json); run `fsr preprocess "
        f"{tmp_path / 'raw'}` or `fsr import-flow LABELS.csv --out DIR` first"
    )
    one = pb.make_prepared(tmp_path / "one", dataset="casme2", subjects=["01"], emotions=pb.CASME2_EMOTIONS)
    assert bad(str(one), "--protocol", "loso").startswith(
        "error: loso needs at least 2 subjects; the data has only"
    )
    assert bad(casme2, "--protocol", "lodo").startswith(
        "error: lodo needs at least 2 datasets; got only 'casme2'"
    )
    assert (
        bad(casme2, samm, "--protocol", "loso", "--labels", "seven")
        == "error: unknown --labels 'seven'; choose one of: composite, casme2-5, samm-5"
    )
    assert bad(casme2, "--protocol", "loso", "--model", "no-such-preset").startswith("error: ")
    assert bad(casme2) == "error: missing --protocol; give --protocol loso (leave one subject out) or lodo"
    assert (
        bad(casme2, "--protocol", "loso", "--select", "best")
        == "error: unknown --select 'best'; choose one of: last, inner-val, test-oracle"
    )


@pytest.mark.slow
def test_a_bare_train_uses_the_current_folder_or_what_was_last_prepared(data, tmp_path):
    import os
    import subprocess
    import sys

    def bare(cwd, env):
        out = str(tmp_path / f"run-{len(os.listdir(tmp_path))}")
        args = ["train", "--protocol", "loso", "--model", str(pb.tiny_preset(tmp_path)), "--epochs", "1"]
        return subprocess.run(
            [sys.executable, "-m", "fsr_cli", *args, "--out", out],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
        )

    casme2, _ = data
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    r = bare(casme2, env)
    assert r.returncode == 0, r.stderr
    assert f"training on {casme2} (the current folder is a prepared dataset)" in r.stderr
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    r = bare(empty, env)
    assert r.returncode == 2 and "no earlier `fsr preprocess` is on record" in r.stderr
    from fsr_cli.prepared import LAST_PREPARED

    (tmp_path / "xdg" / "fsr").mkdir(parents=True)
    (tmp_path / "xdg" / "fsr" / LAST_PREPARED).write_text(
        '{"manifests": ["%s"]}' % (casme2 / ".fsr" / "prepared.json")
    )  # what `fsr preprocess` records (tests/cli/test_preprocess.py checks that it does)
    r = bare(empty, env)
    assert r.returncode == 0, r.stderr
    assert "the datasets the last `fsr preprocess` prepared" in r.stderr


def test_executor_and_device_mistakes_are_one_line_usage_errors(data):
    import torch

    casme2, samm = map(str, data)
    args = (casme2, samm, "--protocol", "loso")
    assert bad(*args, "--executor", "dask") == "error: unknown --executor 'dask'; choose one of: local, ray"
    line = bad(*args, "--ray-address", "10.0.0.1:6379")
    assert line.startswith("error: --ray-address is for --executor ray")
    assert "nothing answers there" in bad(*args, "--executor", "ray", "--ray-address", "127.0.0.1:1")
    if not torch.cuda.is_available():
        assert bad(*args, "--device", "cuda") == (
            "error: --device cuda: torch sees no GPU here; use --device cpu (or auto)"
        )


@pytest.mark.slow
def test_train_with_ray_starts_a_local_instance_and_matches_the_local_run(data, tmp_path):
    model = str(pb.tiny_preset(tmp_path))
    common = ("train", *map(str, data), "--protocol", "loso", "--epochs", "2", "--model", model)
    local = pb.run_fsr(*common, "--out", str(tmp_path / "local"), "--json")
    ray = pb.run_fsr(*common, "--out", str(tmp_path / "ray"), "--json", "--executor", "ray")
    assert local.returncode == 0 and ray.returncode == 0, ray.stderr
    a, b = json.loads(local.stdout), json.loads(ray.stdout)
    assert a["per_fold"].keys() == b["per_fold"].keys() and abs(a["uf1"] - b["uf1"]) < 1e-9
    execution = json.loads((tmp_path / "ray" / "env.json").read_text())["execution"]
    assert execution["executor"] == "ray" and execution["ray_address"] == "local"
    assert "fold samm/007: done" in ray.stderr


@pytest.mark.slow
def test_a_killed_ray_driver_resumes_to_the_uninterrupted_result(data, tmp_path):
    import signal
    import subprocess
    import time

    model = str(pb.tiny_preset(tmp_path))
    common = ("train", *map(str, data), "--protocol", "loso", "--epochs", "12", "--model", model)
    whole = pb.run_fsr(*common, "--out", str(tmp_path / "whole"), "--json")
    assert whole.returncode == 0, whole.stderr
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "fsr_cli", *common, "--out", str(run), "--executor", "ray"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (run / "env.json").is_file() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(0.3)  # the workers are starting (importing torch takes longer): the run cannot be done
    from fsr_cli.lifeline import alive, descendants

    tree = descendants(proc.pid)  # the local Ray instance: raylet, GCS, agents, workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "metrics.json").is_file()  # it died before the end
    # issue 29 item 13: Ray's dashboard and runtime-env agents lived on for 40-45 s
    deadline = time.time() + 10
    while any(alive(p) for p in tree) and time.time() < deadline:
        time.sleep(0.2)
    assert not [p for p in tree if alive(p)], "Ray processes outlived the killed driver"
    again = pb.run_fsr("train", "--resume", str(run), "--executor", "ray", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["per_fold"] == json.loads(whole.stdout)["per_fold"]


def test_out_is_never_a_folder_of_the_users_files(data, tmp_path):
    # issue 29 item 3: --out userdir overwrote report.md, metrics.json and predictions.csv there
    casme2, samm = map(str, data)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md").write_text("my report")
    line = bad(casme2, samm, "--protocol", "loso", "--out", str(mine))
    assert line.startswith(f"error: --out {mine} is not empty and not an fsr run")
    assert sorted(p.name for p in mine.iterdir()) == ["report.md"]
    line = bad(casme2, samm, "--protocol", "loso", "--out", casme2)  # the dataset folder itself
    assert "is not empty and not an fsr run" in line


def test_two_runs_given_the_same_out_cannot_both_claim_it(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from fsr_cli.errors import UsageError
    from fsr_cli.train.rundir import new_run

    def claim(_):
        try:
            return new_run(tmp_path / "same")
        except UsageError as exc:
            return str(exc)

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(claim, range(8)))
    assert sum(isinstance(g, Path) for g in got) == 1, got  # the check and the claim are one exclusive create
    assert all("already holds a run" in g or "just claimed" in g for g in got if isinstance(g, str))


def test_executor_mistakes_leave_no_run_folder(data, tmp_path):
    # issue 29 item 17: each Ray usage error left an empty runs/train/expN behind
    casme2, samm = map(str, data)
    line = bad(
        casme2, samm, "--protocol", "loso", "--executor", "ray", "--ray-address", "127.0.0.1:1", cwd=tmp_path
    )
    assert "nothing answers there" in line
    line = bad(
        casme2, samm, "--protocol", "loso", "--executor", "ray", "--ray-address", "no:port:x", cwd=tmp_path
    )
    assert line.startswith("error: ")
    assert not (tmp_path / "runs").exists()
