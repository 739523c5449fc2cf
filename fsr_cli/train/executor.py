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

import multiprocessing as mp
import os
import pickle
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

from fsr_cli.errors import UsageError

OnProgress = Callable[..., None]  # (job_index, *payload)
EXECUTORS = ("local", "ray")
RAY_EXTRA = 'pip install -e ".[ray]"'
RAY_RETRIES = 2  # a failed Ray task runs at most 1 + RAY_RETRIES times


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


def import_ray():
    """The ray module, or a usage error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray: {RAY_EXTRA}") from None
    return ray


class RayExecutor:
    """Runs the jobs as Ray tasks: on the cluster at `address`, or on a local instance of this run.

    With no address (and no Ray already initialised in this process) a local instance with this
    machine's cores is started for the run and shut down after it. Each task asks for `cpus` CPUs
    and `gpus` GPUs (None: one where the cluster has GPUs, else none); `workers` is how many such
    tasks the cluster can run at once. The shared
    data is put into the object store once; progress comes back through a small actor.
    A task that raises or whose worker dies is retried RAY_RETRIES times, then yields JobFailed.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        cpus: float = 1,
        gpus: float | None = 0,
        setup=None,
        torch_threads=True,
    ):
        self.ray = import_ray()
        self.address, self.cpus, self.gpus, self.setup = address, cpus, gpus, setup
        self.torch_threads = torch_threads
        self._owned = False
        self._guard = None  # the watcher that ends a local instance with this process (lifeline)
        self._connect()
        res = self.ray.cluster_resources()
        if gpus is None:
            gpus = self.gpus = 1 if res.get("GPU") else 0
        slots = int(res.get("CPU", 1) // cpus)
        if gpus:
            slots = min(slots, int(res.get("GPU", 0) // gpus))
            if slots < 1:
                self.close()
                raise UsageError("--device cuda with --executor ray: the Ray cluster has no GPU")
        self.workers = max(1, slots)
        self.resources = {k: v for k, v in res.items() if k in ("CPU", "GPU", "memory")}
        self.nodes = sum(1 for n in self.ray.nodes() if n.get("Alive"))

    def _connect(self) -> None:
        ray = self.ray
        if ray.is_initialized():
            return
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        if self.address:
            check_reachable(self.address)  # ray.init would wait on an unreachable head for minutes
        try:
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:
                from fsr_cli import lifeline

                ray.init(num_cpus=len(os.sched_getaffinity(0)), **kwargs)
                # the instance's agents would outlive a killed driver by 40 s: end them with it
                self._guard = lifeline.guard_tree()
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or "a local instance"
            raise UsageError(
                f"--executor ray: could not reach Ray at {where} ({str(exc).splitlines()[0]}); "
                "check `ray status` on the head node, or drop --ray-address to start a local one"
            ) from None
        self._owned = True

    def close(self) -> None:
        """Shut down the Ray instance this executor started (a cluster it joined keeps running)."""
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()
        if self._guard is not None:
            self._guard.terminate()
            self._guard.wait()
            self._guard = None
        self._owned = False

    def describe(self) -> dict:
        return {
            "executor": "ray",
            "workers": self.workers,
            "ray_version": self.ray.__version__,
            "ray_address": self.address or "local",
            "cluster": {**self.resources, "nodes": self.nodes},
        }

    def map(self, fn, jobs, *, shared=None, on_progress=None):
        ray = self.ray
        sink = ray.remote(num_cpus=0)(_ProgressSink).remote()
        stop = threading.Event()
        pump = threading.Thread(target=_ray_pump, args=(ray, sink, on_progress, stop), daemon=True)
        pump.start()
        task = ray.remote(_ray_task).options(
            num_cpus=self.cpus, num_gpus=self.gpus, max_retries=RAY_RETRIES, retry_exceptions=True
        )
        threads = max(1, int(self.cpus)) if self.torch_threads else None
        shared_ref = ray.put(shared)  # once, whatever the number of jobs
        pending: dict = {}
        try:
            pending = {
                task.remote(fn, shared_ref, job, _RayProgress(sink, i), threads, self.setup): i
                for i, job in enumerate(jobs)
            }
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    i = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as exc:  # the task's own error (RayTaskError) or its worker died
                        cause = getattr(exc, "cause", None)
                        result = _failure(cause if isinstance(cause, BaseException) else exc)
                    yield i, result
        finally:
            for ref in pending:  # the caller stopped early (an error, Ctrl-C): nothing left running
                ray.cancel(ref, force=True)
            stop.set()
            pump.join()
            try:
                ray.kill(sink)
            except Exception:  # the actor is already gone with a shut-down cluster
                pass


def check_reachable(address: str, *, timeout: float = 3.0) -> None:
    """Refuse a HOST:PORT (or ray://HOST:PORT) that accepts no TCP connection within `timeout` s.

    'auto' is left to Ray, which answers at once when no cluster runs on this machine.
    """
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray-address {address!r}: give auto or HOST:PORT (e.g. 10.0.0.5:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UsageError(
            f"--ray-address {address}: nothing answers there ({exc.strerror or exc}); start the head with "
            "`ray start --head --port PORT` and check the address and firewall"
        ) from None


class _ProgressSink:
    """A Ray actor that collects progress items; the driver drains it every 0.1 s."""

    def __init__(self):
        self.items: list = []

    def push(self, item) -> None:
        self.items.append(item)

    def drain(self) -> list:
        out, self.items = self.items, []
        return out


class _RayProgress:
    """Fire-and-forget: a task never waits on its progress (a task blocked in ray.get would free
    its CPU, and Ray would start another worker process beside it)."""

    def __init__(self, sink, index: int):
        self.sink, self.index = sink, index

    def __call__(self, *payload) -> None:
        self.sink.push.remote((self.index, *payload))


_RAY_READY = False


def _ray_task(fn, shared, job, progress, threads: int, setup):
    """One job in a Ray worker process (which Ray reuses: setup runs once per process)."""
    global _RAY_READY
    if not _RAY_READY:
        _set_up_worker(threads, setup)
        _RAY_READY = True
    return fn(shared, job, progress)


def _ray_pump(ray, sink, on_progress: OnProgress | None, stop: threading.Event) -> None:
    """Forward what the tasks pushed, until stopped; then two last drains 0.1 s apart, for the
    pushes a finished task sent just before it returned."""
    last = 0
    while last < 2:
        try:
            items = ray.get(sink.drain.remote())
        except Exception:  # the actor or the cluster went away
            return
        if on_progress is not None:
            for item in items:
                on_progress(*item)
        if stop.is_set():
            last += 1
        time.sleep(0.1)


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
