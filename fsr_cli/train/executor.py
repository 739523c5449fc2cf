"""Where jobs run: in this process, in local worker processes, or as tasks on a Ray cluster.

An executor runs `fn(shared, job, progress)` for every job and yields `(job_index, result)` as
the jobs finish (in any order). `shared` is the data every job reads (the feature arrays of a
run, a preprocess configuration): it is sent once per worker process, or `ray.put` once into
Ray's object store, instead of once per job. `progress(*payload)` is a picklable callable the job
may call (epochs done, a clip's stage); the executor forwards it to
`on_progress(job_index, *payload)` in the calling process.

A job that raises comes back as a `JobFailed` result (Ray retries it first), so the caller can
save what finished and report the rest; only the in-process executor lets exceptions through
(its traceback is the useful one). Jobs and results are plain picklable objects; a job sets its
own torch/OpenCV thread count, so a remote worker needs nothing but the installed package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fsr_cli.errors import UsageError
from fsr_cli.train.ray_executor import RAY_EXTRA, RayExecutor, check_reachable
from fsr_cli.train.workers import (
    Executor,
    JobFailed,
    LocalExecutor,
    ProcessExecutor,
    threads_per_worker,
)

EXECUTORS = ("local", "ray")
__all__ = [
    "EXECUTORS",
    "RAY_EXTRA",
    "Executor",
    "JobFailed",
    "LocalExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "check_executor",
    "check_reachable",
    "chunk",
    "close",
    "make_executor",
    "threads_per_worker",
]


def check_executor(executor: str, address: str | None) -> None:
    """Raise UsageError for an unknown `--executor`, or a `--ray-address` without Ray."""
    if executor not in EXECUTORS:
        raise UsageError(f"unknown --executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
    if address and executor != "ray":
        raise UsageError("--ray-address is for --executor ray; add --executor ray or drop the address")


def make_executor(
    workers: int = 1,
    *,
    executor: str = "local",
    address: str | None = None,
    gpus: float | None = 0,
    setup=None,
    torch_threads: bool = True,
    context=None,
) -> Executor:
    """The executor for `--executor` / `--workers`: in-process, local processes, or Ray.

    `context` is the multiprocessing context of local worker processes (default spawn).

    Raises:
        UsageError: an unknown executor, Ray not installed or not reachable.
    """
    check_executor(executor, address)
    if executor == "ray":
        return RayExecutor(address, gpus=gpus, setup=setup, torch_threads=torch_threads)
    if workers <= 1:
        return LocalExecutor()
    return ProcessExecutor(workers, setup=setup, torch_threads=torch_threads, context=context)


def close(executor: Executor) -> None:
    """Release what the executor started (a local Ray instance); a no-op for the others."""
    if hasattr(executor, "close"):
        executor.close()


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
