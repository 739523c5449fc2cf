"""Where chunks of folds are trained: in this process, in local worker processes, or (later) a cluster.

An executor runs `fn(job, progress)` for every job and yields `(job_index, result)` as the jobs
finish (in any order). `progress(done, total)` is a picklable callable the job may call to
report its epochs; the executor forwards it to `on_progress(job_index, done, total)` in the
main process.

To add a cluster engine, implement the same `map` (nothing else is called): e.g. a Ray executor
would `ray.put` the arrays once, submit `ray.remote(fn)` per job, forward progress through a
small actor or a `ray.util.queue.Queue`, and yield results from `ray.wait`. Jobs and results
are plain picklable objects (numpy arrays, dicts, dataclasses); a job sets its own torch thread
count, so remote machines need nothing but the installed package.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

OnProgress = Callable[[int, int, int], None]  # (job_index, done, total)


class Executor(Protocol):
    workers: int

    def map(
        self,
        fn: Callable[[Any, Callable[[int, int], None]], Any],
        jobs: Sequence[Any],
        *,
        on_progress: OnProgress | None = None,
    ) -> Iterator[tuple[int, Any]]: ...


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Torch intra-op threads for each of `workers` processes: the cores shared out, at least 1."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, workers))


class LocalExecutor:
    """Runs the jobs one after another in this process (the default, `--workers 1`)."""

    workers = 1

    def map(self, fn, jobs, *, on_progress=None):
        for i, job in enumerate(jobs):
            yield i, fn(job, _CallbackProgress(on_progress, i))


class _CallbackProgress:
    def __init__(self, on_progress: OnProgress | None, index: int):
        self.on_progress, self.index = on_progress, index

    def __call__(self, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(self.index, done, total)


# Worker-process state: the queue that carries (job_index, done, total) back to the parent.
_QUEUE = None


class _QueueProgress:
    """Picklable progress callback: sends (job_index, done, total) to the parent through the
    queue the worker was started with."""

    def __init__(self, index: int):
        self.index = index

    def __call__(self, done: int, total: int) -> None:
        _QUEUE.put((self.index, done, total))


def _init_worker(threads: int, queue, parent: int) -> None:
    import torch

    from fsr_cli import lifeline

    global _QUEUE
    _QUEUE = queue
    lifeline.hold(parent)  # a killed driver leaves no worker behind
    torch.set_num_threads(threads)


class ProcessExecutor:
    """Runs the jobs in `workers` local processes (spawn: safe with torch and on every OS)."""

    def __init__(self, workers: int, *, start_method: str = "spawn"):
        self.workers = workers
        self.start_method = start_method

    def map(self, fn, jobs, *, on_progress=None):
        ctx = mp.get_context(self.start_method)
        queue = ctx.Queue()  # inherited by the workers at start: no manager process to outlive us
        pump = threading.Thread(target=_pump, args=(queue, on_progress), daemon=True)
        pump.start()
        initargs = (threads_per_worker(self.workers), queue, os.getpid())
        try:
            with ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_init_worker, initargs=initargs
            ) as pool:
                pending = {pool.submit(fn, job, _QueueProgress(i)): i for i, job in enumerate(jobs)}
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield pending.pop(fut), fut.result()
        finally:
            queue.put(None)
            pump.join()
            queue.close()


def _pump(queue, on_progress: OnProgress | None) -> None:
    while (item := queue.get()) is not None:
        if on_progress is not None:
            on_progress(*item)


def make_executor(workers: int) -> Executor:
    """LocalExecutor for one worker, else a ProcessExecutor with that many processes."""
    return LocalExecutor() if workers <= 1 else ProcessExecutor(workers)


def chunk(items: Sequence[Any], n: int) -> list[list[Any]]:
    """Split items into at most n contiguous, near-equal, non-empty chunks (order kept)."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for k in range(n):
        stop = start + size + (1 if k < extra else 0)
        out.append(list(items[start:stop]))
        start = stop
    return out
