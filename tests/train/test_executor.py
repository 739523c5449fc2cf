import os

import pytest

from fsr_cli.errors import UsageError
from fsr_cli.train.executor import (
    JobFailed,
    LocalExecutor,
    ProcessExecutor,
    check_reachable,
    chunk,
    make_executor,
    threads_per_worker,
)


def square_job(shared, job, progress):
    for k in range(3):
        progress(k + 1, 3)
    return job * job + (shared or 0), os.getpid()


def failing_job(shared, job, progress):
    if job == 3:
        raise ValueError("three is not allowed")
    return job


def test_chunk_is_balanced_ordered_and_never_empty():
    assert chunk(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert chunk([1, 2], 5) == [[1], [2]]
    assert chunk(list(range(4)), 1) == [[0, 1, 2, 3]]


def test_threads_per_worker_shares_the_cores():
    assert threads_per_worker(2, cores=16) == 8
    assert threads_per_worker(3, cores=2) == 1


def test_make_executor():
    assert isinstance(make_executor(1), LocalExecutor)
    assert isinstance(make_executor(2), ProcessExecutor) and make_executor(2).workers == 2
    with pytest.raises(UsageError, match="choose one of: local, ray"):
        make_executor(1, executor="dask")
    with pytest.raises(UsageError, match="--ray-address is for --executor ray"):
        make_executor(2, address="10.0.0.1:6379")


def test_local_executor_runs_in_process_and_reports_progress():
    seen = []
    out = dict(LocalExecutor().map(square_job, [2, 3], shared=100, on_progress=lambda *a: seen.append(a)))
    assert {k: v[0] for k, v in out.items()} == {0: 104, 1: 109}
    assert out[0][1] == os.getpid()
    assert seen == [(0, 1, 3), (0, 2, 3), (0, 3, 3), (1, 1, 3), (1, 2, 3), (1, 3, 3)]


def test_process_executor_runs_in_other_processes_and_forwards_progress():
    seen = []
    ex = ProcessExecutor(2)
    out = dict(ex.map(square_job, [2, 3, 4], shared=100, on_progress=lambda *a: seen.append(a)))
    assert {k: v[0] for k, v in out.items()} == {0: 104, 1: 109, 2: 116}
    assert os.getpid() not in {v[1] for v in out.values()}
    assert sorted(seen) == sorted((i, k, 3) for i in range(3) for k in (1, 2, 3))


def test_process_executor_reports_a_failed_job_and_finishes_the_others():
    out = dict(ProcessExecutor(2).map(failing_job, [1, 3, 5]))
    assert out[0] == 1 and out[2] == 5
    assert out[1] == JobFailed("ValueError: three is not allowed")


def test_an_address_that_nothing_answers_is_refused_at_once():
    with pytest.raises(UsageError, match="nothing answers there"):
        check_reachable("127.0.0.1:1", timeout=1)
    with pytest.raises(UsageError, match="give auto or HOST:PORT"):
        check_reachable("headnode")


def test_ray_missing_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where it is not installed
    with pytest.raises(UsageError, match=r'pip install -e "\.\[ray\]"'):
        make_executor(2, executor="ray")


def _die():
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


class DiesWhenUnpickled:
    """Kills the worker that unpickles it: a worker lost while it starts."""

    def __reduce__(self):
        return (_die, ())


def test_a_worker_killed_while_it_starts_is_reported_never_a_hang():
    # issue 29 item 12: a worker killed while it read its start arguments (megabytes of shared data,
    # sent down a pipe whose read end the parent holds) blocked the driver forever
    import threading

    result = {}

    def run():
        shared = [DiesWhenUnpickled(), b"x" * (16 << 20)]  # dies before the 16 MB behind it are read
        result["out"] = dict(ProcessExecutor(2).map(square_job, [1, 2], shared=shared))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the executor hung on a worker killed at start"
    assert set(result["out"].values()) == {
        JobFailed("a worker process ended abruptly (killed, or out of memory)")
    }
