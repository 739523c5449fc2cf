"""The executors' common parts and the two local ones: in this process (LocalExecutor) and in
spawned worker processes (ProcessExecutor). See executor.py for what an executor does.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

OnProgress = Callable[..., None]  # (job_index, *payload)


@dataclass(frozen=True)
class JobFailed:
    """The result of a job that raised (after any retries): what went wrong, in one line."""

    reason: str


class Executor(Protocol):
    workers: int  # how many jobs run at once: callers split their work into this many chunks

    def map(
        self,
        fn: Callable[[Any, Any, Callable[..., None]], Any],
        jobs: Sequence[Any],
        *,
        shared: Any = None,
        on_progress: OnProgress | None = None,
    ) -> Iterator[tuple[int, Any]]: ...

    def describe(self) -> dict: ...


def default_workers() -> int:
    """`fsr train`'s default: one worker process (of one thread) per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Torch intra-op threads for each of `workers` processes: the cores shared out, at least 1."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, workers))


def _failure(exc: BaseException) -> JobFailed:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return JobFailed("a worker process ended abruptly (killed, or out of memory)")
    text = str(exc).strip().splitlines()
    return JobFailed(f"{type(exc).__name__}: {text[-1] if text else ''}".rstrip(": "))


class LocalExecutor:
    """Runs the jobs one after another in this process (the default, `--workers 1`)."""

    workers = 1

    def map(self, fn, jobs, *, shared=None, on_progress=None):
        for i, job in enumerate(jobs):
            yield i, fn(shared, job, _CallbackProgress(on_progress, i))

    def describe(self) -> dict:
        return {"executor": "local", "workers": 1}


class _CallbackProgress:
    def __init__(self, on_progress: OnProgress | None, index: int):
        self.on_progress, self.index = on_progress, index

    def __call__(self, *payload) -> None:
        if self.on_progress is not None:
            self.on_progress(self.index, *payload)


# Worker-process state: the queue that carries (job_index, *payload) back to the parent, and
# the shared data (sent once, with the worker's start).
_QUEUE = None
_SHARED = None


class _QueueProgress:
    """Picklable progress callback: sends (job_index, *payload) to the parent through the queue
    the worker was started with."""

    def __init__(self, index: int):
        self.index = index

    def __call__(self, *payload) -> None:
        _QUEUE.put((self.index, *payload))


def _set_up_worker(threads: int | None, setup) -> None:
    """Once per worker process (local or Ray): torch's thread count, then the caller's setup."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    if setup is not None:
        setup()


def _init_worker(threads: int | None, queue, parent: int, shared_file: str, setup) -> None:
    import pickle

    from fsr_cli import lifeline

    global _QUEUE, _SHARED
    lifeline.hold(parent)  # a killed driver leaves no worker behind
    with open(shared_file, "rb") as f:
        _QUEUE, _SHARED = queue, pickle.load(f)
    _set_up_worker(threads, setup)


def _call_shared(fn, job, index: int):
    return fn(_SHARED, job, _QueueProgress(index))


class ProcessExecutor:
    """Runs the jobs in `workers` local processes (spawn by default: safe with torch and on every OS).

    `setup` (picklable, no arguments) runs once in each worker before its first job, e.g. to load
    models; `context` overrides the multiprocessing context (preprocess uses a forkserver that has
    the models preloaded); `torch_threads=False` leaves torch unimported in workers that need none.
    """

    def __init__(
        self, workers: int, *, start_method: str = "spawn", setup=None, context=None, torch_threads=True
    ):
        self.workers = workers
        self.start_method = start_method
        self.setup = setup
        self.context = context
        self.torch_threads = torch_threads

    def map(self, fn, jobs, *, shared=None, on_progress=None):
        ctx = self.context or mp.get_context(self.start_method)
        queue = ctx.Queue()  # inherited by the workers at start: no manager process to outlive us
        pump = threading.Thread(target=_pump, args=(queue, on_progress), daemon=True)
        pump.start()
        workers = max(1, min(self.workers, len(jobs)))
        threads = threads_per_worker(workers) if self.torch_threads else None
        # The shared data reach the workers through a file, not the start arguments: a spawned
        # worker's arguments go down a pipe whose read end the parent keeps open until the write
        # ends, so a worker killed while reading megabytes of them would block the parent forever.
        tmp = tempfile.TemporaryDirectory(prefix="fsr-shared-")
        shared_file = os.path.join(tmp.name, "shared.pkl")
        with open(shared_file, "wb") as f:
            pickle.dump(shared, f, protocol=pickle.HIGHEST_PROTOCOL)
        initargs = (threads, queue, os.getpid(), shared_file, self.setup)
        try:
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=initargs
            ) as pool:
                pending = {pool.submit(_call_shared, fn, job, i): i for i, job in enumerate(jobs)}
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        exc = fut.exception()
                        yield pending.pop(fut), (fut.result() if exc is None else _failure(exc))
        finally:
            queue.put(None)
            pump.join()
            queue.close()
            tmp.cleanup()

    def describe(self) -> dict:
        return {"executor": "local", "workers": self.workers}


def _pump(queue, on_progress: OnProgress | None) -> None:
    while (item := queue.get()) is not None:
        if on_progress is not None:
            on_progress(*item)
