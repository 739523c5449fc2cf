"""Preprocess on a real local Ray instance: one task per clip, the same cache, nothing corrupt."""

import json
import os

import numpy as np

from fsr_cli.cache import Cache
from fsr_cli.preprocess import prepare_dataset
from fsr_cli.preprocess.batch import Events, make_clip_executor
from fsr_cli.train.executor import JobFailed

KEY = "ab" + "1" * 62


class _Dies:
    """Pickling it (as np.savez does for an object array) kills the worker process mid-write."""

    def __reduce__(self):
        os._exit(1)


def write_then_die(shared, job, progress):
    cache = Cache(shared)
    arrays = {"flow": np.ones((3, 4, 4), np.float32)}
    if job == "dies":
        arrays["poison"] = np.array([_Dies()], dtype=object)
    return str(cache.put("flow", KEY if job == "dies" else "cd" + "2" * 62, arrays, {"sample": job}).path)


def test_ray_preprocess_writes_the_local_runs_entries(ray_local, synth_casme2, tmp_path):
    class Stages(Events):
        def __init__(self):
            self.stages, self.done = [], []

        def stage_done(self, stage):
            self.stages.append(stage)

        def sample_done(self, outcome):
            self.done.append(outcome.uid)

    local = prepare_dataset(synth_casme2, cache_root=tmp_path / "local")
    events = Stages()
    pool = make_clip_executor(2, "ray")
    remote = prepare_dataset(synth_casme2, cache_root=tmp_path / "ray", executor=pool, events=events)
    assert (len(remote.ok), remote.computed, remote.failed) == (4, 4, [])
    assert sorted(events.done) == sorted(o.uid for o in local.outcomes)
    assert events.stages.count("flow") == 4  # every clip's stages came back from its task
    a = json.loads(local.manifest.read_text())["samples"]
    b = json.loads(remote.manifest.read_text())["samples"]
    assert [s["entry"] for s in a] == [s["entry"] for s in b]  # same keys: same content, same params
    for s in a:
        fa = np.load(tmp_path / "local" / s["entry"] / "arrays.npz")["flow"]
        fb = np.load(tmp_path / "ray" / s["entry"] / "arrays.npz")["flow"]
        np.testing.assert_array_equal(fa, fb)
    again = prepare_dataset(synth_casme2, cache_root=tmp_path / "ray", executor=pool)
    assert (again.computed, again.cached) == (0, 4)  # hits answered without a task


def test_a_worker_killed_mid_write_leaves_no_entry(ray_local, tmp_path):
    pool = make_clip_executor(2, "ray")
    out = dict(pool.map(write_then_die, ["dies", "lives"], shared=str(tmp_path)))
    assert isinstance(out[0], JobFailed)  # retried, died each time, then reported
    cache = Cache(tmp_path)
    assert cache.get("flow", KEY) is None  # no corrupt entry under the key
    assert [e.key for e in cache.entries()] == ["cd" + "2" * 62]  # the other task's entry is whole
    assert cache.temporaries()  # what the killed writers left is a temporary, not an entry
    cache.clear()
    assert cache.entries() == [] and cache.temporaries() == []
