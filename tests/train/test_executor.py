import os

from fsr_cli.train.executor import LocalExecutor, ProcessExecutor, chunk, make_executor, threads_per_worker


def square_job(job, progress):
    for k in range(3):
        progress(k + 1, 3)
    return job * job, os.getpid()


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


def test_local_executor_runs_in_process_and_reports_progress():
    seen = []
    out = dict(LocalExecutor().map(square_job, [2, 3], on_progress=lambda *a: seen.append(a)))
    assert {k: v[0] for k, v in out.items()} == {0: 4, 1: 9}
    assert out[0][1] == os.getpid()
    assert seen == [(0, 1, 3), (0, 2, 3), (0, 3, 3), (1, 1, 3), (1, 2, 3), (1, 3, 3)]


def test_process_executor_runs_in_other_processes_and_forwards_progress():
    seen = []
    out = dict(ProcessExecutor(2).map(square_job, [2, 3, 4], on_progress=lambda *a: seen.append(a)))
    assert {k: v[0] for k, v in out.items()} == {0: 4, 1: 9, 2: 16}
    assert os.getpid() not in {v[1] for v in out.values()}
    assert sorted(seen) == sorted((i, k, 3) for i in range(3) for k in (1, 2, 3))
