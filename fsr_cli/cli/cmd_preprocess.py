"""`fsr preprocess`: index -> face -> align -> apex -> TV-L1 flow + strain, cached per sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import (
    CacheDirOpt,
    DatasetOpt,
    ExecutorOpt,
    JsonOpt,
    RayAddressOpt,
    WorkersOpt,
    emit_json,
    err_console,
)
from fsr_cli.errors import EXIT_PARTIAL, FsrError, UsageError


def _cache_roots(dirs: list[Path], cache_dir: Path | None) -> list[Path | None]:
    """One cache root per dataset: the default <dir>/.fsr, D itself, or D/<dir name> for several."""
    if cache_dir is None:
        return [None] * len(dirs)
    if len(dirs) == 1:
        return [cache_dir]
    roots, seen = [], set()
    for d in dirs:
        name, k = d.resolve().name or "dataset", 2
        while name in seen:
            name, k = f"{d.resolve().name}-{k}", k + 1
        seen.add(name)
        roots.append(cache_dir / name)
    return roots


def _check_args(dirs: list[Path], dataset: str, size: int) -> None:
    from fsr_cli.data import KINDS

    if dataset != "auto" and dataset not in KINDS:
        raise UsageError(f"unknown dataset kind {dataset!r}; choose one of: auto, {', '.join(KINDS)}")
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"{d}: no such folder (give a dataset folder in its native layout)")
    if not 32 <= size <= 1024:
        raise UsageError(f"--size must be between 32 and 1024 pixels, got {size}")


def _stage_progress():
    """Rich bars on stderr: one per dataset (clips) and one per stage, fed by the batch's Events."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fsr_cli.preprocess import STAGES, Events

    class StageProgress(Events):
        def __init__(self) -> None:
            columns = (TextColumn("{task.description:>18}"), BarColumn(), MofNCompleteColumn())
            self.bars = Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True)
            self.clips = None
            self.stages: dict[str, int] = {}

        def __enter__(self):
            self.bars.__enter__()
            return self

        def __exit__(self, *exc) -> None:
            self.bars.__exit__(*exc)

        def dataset_started(self, name: str, total: int) -> None:
            for task in [self.clips, *self.stages.values()]:
                if task is not None:
                    self.bars.remove_task(task)
            self.clips = self.bars.add_task(f"{name} clips", total=total)
            self.stages = {s: self.bars.add_task(s, total=total) for s in STAGES}

        def stage_done(self, stage: str) -> None:
            self.bars.advance(self.stages[stage])

        def sample_done(self, outcome) -> None:
            self.bars.advance(self.clips)
            if outcome.hit:  # a cached clip passes every stage at once
                for task in self.stages.values():
                    self.bars.advance(task)

    return StageProgress()


def _render(doc: dict) -> None:
    from rich.table import Table

    table = Table(title="fsr preprocess")
    for col in ("dataset", "ok", "computed", "cached", "skipped", "failed", "seconds"):
        table.add_column(col, justify="left" if col == "dataset" else "right")
    for s in doc["datasets"]:
        if "error" in s:
            table.add_row(s["source"], "[red]not read[/red]", "-", "-", "-", "-", "-")
            continue
        table.add_row(
            s["dataset"],
            str(s["ok"]),
            str(s["computed"]),
            str(s["cached"]),
            str(len(s["skipped"])),
            f"[red]{len(s['failed'])}[/red]" if s["failed"] else "0",
            f"{s['seconds']:.1f}",
        )
    err_console.print(table)
    for s in doc["datasets"]:
        if "error" in s:
            err_console.print(f"[red]not read:[/red] {s['error']}", highlight=False, soft_wrap=True)
        elif s["manifest"]:
            err_console.print(f"{s['dataset']}: {s['manifest']} (cache {s['cache']})", highlight=False)
        else:
            err_console.print(f"{s['dataset']}: nothing prepared, no prepared.json written", highlight=False)
    read = [r for r in doc["datasets"] if "error" not in r]
    problems = [(p["source"], "skipped", p["reason"]) for r in read for p in r["skipped"]]
    problems += [(f["sample"], "failed", f["reason"]) for r in read for f in r["failed"]]
    if problems:
        t = Table(title="not prepared")
        for col in ("sample", "status", "reason"):
            t.add_column(col, overflow="fold")
        for row in problems:
            t.add_row(*row)
        err_console.print(t)


def preprocess(
    dirs: Annotated[
        list[Path],
        typer.Argument(help="Dataset folders in their native layout.", metavar="DIR", show_default=False),
    ],
    dataset: DatasetOpt = "auto",
    size: Annotated[int, typer.Option("--size", help="Side of the aligned square face crop, pixels.")] = 128,
    workers: WorkersOpt = 1,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    cache_dir: CacheDirOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Recompute cached samples, and replace another dataset's prepared.json in --cache-dir.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Detect, align, spot the apex and compute TV-L1 flow + optical strain for every sample.

    One cache entry per sample: flow (3,H,W) float32 u/v/strain and the aligned onset and apex frames.

    Entries are keyed by stage versions, parameters and the frames' content hashes; prepared.json lists them.

    A killed run resumes where it stopped; a second identical run computes nothing.

    Exit codes: 0 all prepared, 3 some samples (or, of several, some datasets) skipped or failed
    (listed with reasons), 1 nothing prepared, 2 bad arguments.

    --executor ray runs one Ray task per clip (a local instance, or --ray-address of a cluster
    whose workers see the same dataset and cache paths).

    Example: fsr preprocess data/casme2 --workers 2 --json
    """
    from fsr_cli.prepared import record_last_prepared
    from fsr_cli.preprocess import PreprocessConfig, prepare_dataset
    from fsr_cli.preprocess.batch import make_clip_executor
    from fsr_cli.train.executor import close

    _check_args(dirs, dataset, size)
    config = PreprocessConfig(size=size)
    datasets = []
    pool = make_clip_executor(workers, executor, ray_address) if executor != "local" or ray_address else None
    try:
        with _stage_progress() as events:
            for d, root in zip(dirs, _cache_roots(dirs, cache_dir), strict=True):
                try:
                    report = prepare_dataset(
                        d,
                        kind=dataset,
                        config=config,
                        cache_root=root,
                        workers=workers,
                        force=force,
                        events=events,
                        executor=pool,
                    )
                except FsrError as exc:
                    if len(dirs) == 1:
                        raise  # one dataset: its one-line error is the whole answer
                    datasets.append({"dataset": None, "source": str(d), "error": str(exc)})
                    continue  # the others are still prepared
                datasets.append(report.summary())
    finally:
        if pool is not None:
            close(pool)  # a local Ray instance started for this run
    read = [s for s in datasets if "error" not in s]
    record_last_prepared([Path(s["manifest"]) for s in read if s["manifest"]])
    totals = {k: sum(s[k] for s in read) for k in ("ok", "computed", "cached")}
    skipped = sum(len(s["skipped"]) for s in read)
    failed = sum(len(s["failed"]) for s in read)
    unread = len(datasets) - len(read)
    code = 1 if not totals["ok"] else EXIT_PARTIAL if skipped or failed or unread else 0
    doc = {
        "datasets": datasets,
        **totals,
        "skipped": skipped,
        "failed": failed,
        "unread_datasets": unread,
        "exit_code": code,
        "params": config.params(),
    }
    if json_out:
        emit_json(doc)
    else:
        _render(doc)
    if code:
        raise typer.Exit(code)
