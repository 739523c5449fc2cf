"""A whole dataset through the pipeline: index -> every sample (in worker processes) -> manifest.

Samples are independent, so `workers > 1` runs them in a process pool (and `--executor ray` as
one Ray task per clip, with the same setup once per worker and the same atomic cache writes;
train/executor.py has both executors). Local workers come from a
forkserver, a clean process that has imported OpenCV and dlib and loaded the dlib models once
(`preload.py`), so workers start in milliseconds with the models in memory; forking the caller
itself can deadlock once OpenCV's threads have run in it. Like any spawn/forkserver pool this
needs an importable main module (a script file or `python -m`, not `python -` on stdin).
Workers run OpenCV single-threaded, so that N workers use N cores. Each finished sample is one
atomic cache entry: a killed run loses only the clips in flight, and the next run recomputes
exactly those. A sample that fails is reported with its reason and the others go on.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass, field
from pathlib import Path

from fsr_cli.cache import Cache
from fsr_cli.data.sample import Problem, Sample
from fsr_cli.errors import DatasetError, SampleError
from fsr_cli.prepared import MANIFEST, PreparedSample, check_replaceable, write_manifest
from fsr_cli.preprocess.pipeline import PreprocessConfig, cached_entry, prepared_record, process_sample

CACHE_DIRNAME = ".fsr"


@dataclass(frozen=True)
class Outcome:
    """What became of one sample: its manifest record, or the reason it failed."""

    uid: str
    source: str
    prepared: PreparedSample | None = None
    error: str | None = None
    hit: bool = False
    timings: dict = field(default_factory=dict)


def run_sample(
    sample: Sample, *, cache: Cache, config: PreprocessConfig, force: bool, on_stage=None
) -> Outcome:
    """process_sample that never raises: a failure becomes the Outcome's error (batch use)."""
    t0 = time.perf_counter()
    try:
        entry, hit = process_sample(sample, cache=cache, config=config, force=force, on_stage=on_stage)
        record = prepared_record(sample, entry, cache.root)
    except SampleError as exc:
        return Outcome(sample.uid, sample.source, error=str(exc))
    except Exception as exc:  # one odd clip must not end a long batch; the reason is reported
        return Outcome(sample.uid, sample.source, error=f"{type(exc).__name__}: {exc}")
    return Outcome(
        sample.uid, sample.source, prepared=record, hit=hit, timings={"total": time.perf_counter() - t0}
    )


class Events:
    """Progress hooks of a batch (the CLI draws bars with them); the defaults do nothing."""

    def dataset_started(self, name: str, total: int) -> None:
        """A dataset was indexed and `total` samples are about to run."""

    def stage_done(self, stage: str) -> None:
        """A clip passed `stage` (one of pipeline.STAGES)."""

    def sample_done(self, outcome: Outcome) -> None:
        """A sample finished, from the cache, computed, or failed."""


@dataclass
class DatasetReport:
    """What one dataset's run did."""

    dataset: str
    source: Path
    cache_root: Path
    manifest: Path | None
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # rows the reader skipped
    seconds: float = 0.0

    @property
    def ok(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.prepared is not None]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.prepared is None]

    @property
    def cached(self) -> int:
        return sum(o.hit for o in self.ok)

    @property
    def computed(self) -> int:
        return len(self.ok) - self.cached

    def summary(self) -> dict:
        """The JSON-able record `fsr preprocess --json` prints per dataset."""
        return {
            "dataset": self.dataset,
            "source": str(self.source),
            "cache": str(self.cache_root),
            "manifest": str(self.manifest) if self.manifest else None,
            "ok": len(self.ok),
            "computed": self.computed,
            "cached": self.cached,
            "skipped": [{"source": p.source, "reason": p.reason} for p in self.problems],
            "failed": [{"sample": o.uid, "source": o.source, "reason": o.error} for o in self.failed],
            "seconds": round(self.seconds, 3),
        }


def _setup_worker() -> None:
    """Once per worker process (local or Ray): OpenCV single-threaded, the dlib models loaded."""
    import cv2

    from fsr_cli.preprocess.face import load_models

    cv2.setNumThreads(1)  # N workers on N cores; OpenCV's own threads would oversubscribe them
    load_models()  # already in memory when forked from the forkserver; loads them otherwise


def _context():
    methods = mp.get_all_start_methods()
    if "forkserver" not in methods:
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["fsr_cli.preprocess.preload"])
    return ctx


def _work(shared: tuple, sample: Sample, progress) -> Outcome:
    root, config, force = shared
    return run_sample(sample, cache=Cache(root), config=config, force=force, on_stage=progress)


def make_clip_executor(workers: int, executor: str = "local", address: str | None = None):
    """The executor for a batch of clips: local worker processes (from the preloaded forkserver) or Ray.

    Raises:
        UsageError: an unknown executor, or Ray missing / unreachable.
    """
    from fsr_cli.train.executor import make_executor

    return make_executor(
        workers,
        executor=executor,
        address=address,
        setup=_setup_worker,
        torch_threads=False,
        context=_context(),  # local workers fork from a server that has the models loaded
    )


def run_samples(
    samples: list[Sample],
    *,
    cache: Cache,
    config: PreprocessConfig,
    workers: int,
    force: bool,
    events: Events,
    executor=None,
) -> list[Outcome]:
    """Every sample's Outcome, in the order of `samples`.

    `executor` (train/executor.py; default: `workers` local processes) runs one job per clip
    that is not already cached; every worker writes its entries atomically into the same cache.
    """
    results: dict[int, Outcome] = {}
    parallel = executor is not None or workers > 1
    if parallel and not force:
        # Cache hits cost a hash of the frames: answer them here, start workers only for misses.
        for i, s in enumerate(samples):
            entry = cached_entry(s, cache=cache, config=config)
            if entry is not None:
                results[i] = Outcome(
                    s.uid, s.source, prepared=prepared_record(s, entry, cache.root), hit=True
                )
                events.sample_done(results[i])
    todo = [i for i in range(len(samples)) if i not in results]
    if executor is None and (workers <= 1 or len(todo) <= 1):
        for i in todo:
            results[i] = run_sample(
                samples[i], cache=cache, config=config, force=force, on_stage=events.stage_done
            )
            events.sample_done(results[i])
        return [results[i] for i in range(len(samples))]
    if not todo:
        return [results[i] for i in range(len(samples))]
    from fsr_cli.train.executor import JobFailed

    pool = executor if executor is not None else make_clip_executor(workers)
    jobs = [samples[i] for i in todo]
    shared = (cache.root, config, force)

    def on_stage(_job: int, stage: str) -> None:
        events.stage_done(stage)

    for k, outcome in pool.map(_work, jobs, shared=shared, on_progress=on_stage):
        s = jobs[k]
        if isinstance(outcome, JobFailed):  # the worker died (run_sample itself never raises)
            outcome = Outcome(s.uid, s.source, error=f"worker failed: {outcome.reason}")
        results[todo[k]] = outcome
        events.sample_done(outcome)
    return [results[i] for i in range(len(samples))]


def default_cache_root(dataset_dir: Path) -> Path:
    return Path(dataset_dir) / CACHE_DIRNAME


def prepare_dataset(
    root: Path,
    *,
    kind: str = "auto",
    config: PreprocessConfig = PreprocessConfig(),
    cache_root: Path | None = None,
    workers: int = 1,
    force: bool = False,
    events: Events | None = None,
    executor=None,
) -> DatasetReport:
    """Index a dataset folder, prepare every sample and write prepared.json.

    Args:
        root: the dataset folder in its native layout.
        kind: dataset kind for the reader ('auto' detects it).
        config: what to compute (crop size, drift removal).
        cache_root: where entries and prepared.json go (default `<root>/.fsr`).
        workers: processes; 1 runs in this process.
        force: recompute entries that are already cached.
        events: progress hooks.
        executor: runs the clips (make_clip_executor; default: `workers` local processes).

    Raises:
        UsageError: missing folder or unknown kind. DatasetError: unreadable annotation.
    """
    from fsr_cli.data import read_dataset

    events = events or Events()
    t0 = time.perf_counter()
    table = read_dataset(Path(root), kind)
    if not table.samples and not table.problems:
        raise DatasetError(f"{root}: its annotation has no data rows (only a header?); nothing to prepare")
    cache = Cache(cache_root or default_cache_root(root))
    cache.check_writable()  # before any clip is computed
    fix = "give each dataset its own --cache-dir, or --force to replace it"
    if not force:
        check_replaceable(cache.root / MANIFEST, Path(root), fix=fix)
    events.dataset_started(table.dataset, len(table.samples))
    outcomes = run_samples(
        table.samples,
        cache=cache,
        config=config,
        workers=workers,
        force=force,
        events=events,
        executor=executor,
    )
    records = [o.prepared for o in outcomes if o.prepared is not None]
    manifest = None  # nothing prepared: no empty prepared.json (and an earlier one is kept)
    if records:
        with cache.writing():  # another preprocess or import of this cache waits, then is checked
            if not force:
                check_replaceable(cache.root / MANIFEST, Path(root), fix=fix)
            manifest = write_manifest(
                cache,
                dataset=table.dataset,
                source=Path(root).resolve(),
                params=config.params(),
                samples=records,
            )
    return DatasetReport(
        dataset=table.dataset,
        source=Path(root),
        cache_root=cache.root,
        manifest=manifest,
        outcomes=outcomes,
        problems=list(table.problems),
        seconds=time.perf_counter() - t0,
    )
