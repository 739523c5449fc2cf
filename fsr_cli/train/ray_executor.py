"""Jobs as Ray tasks: on a cluster (--ray-address) or on a local instance started for the run and
ended with it (a watcher, lifeline.guard_tree, ends its agents even when the driver is killed).
Ray itself is imported only when a RayExecutor is made.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from fsr_cli.errors import UsageError
from fsr_cli.train.workers import OnProgress, _failure, _set_up_worker

RAY_EXTRA = 'pip install -e ".[ray]"'
RAY_RETRIES = 2  # a failed Ray task runs at most 1 + RAY_RETRIES times


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
