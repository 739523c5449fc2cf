"""`fsr train` as a library call: prepared sets -> folds -> trained fold models -> the run directory.

The order of work: resolve the model preset and fit configuration, build the features, split the
folds, write config.yaml and env.json, train the unfinished folds in chunks through an executor
(each chunk is one `fit_folds` call), write each fold's files as its chunk returns, then compute
the pooled outputs from the fold files (so a resumed run and an uninterrupted one end the same).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fsr_cli.data.labels import LABEL_SETS
from fsr_cli.errors import FsrError, UsageError
from fsr_cli.prepared import MANIFEST
from fsr_cli.train import rundir
from fsr_cli.train.executor import Executor, JobFailed, check_executor, chunk, close, make_executor
from fsr_cli.train.features import Features, build_features, load_sets
from fsr_cli.train.protocols import PROTOCOLS, make_folds
from fsr_cli.train.selection import check_selection, selection_label


@dataclass(frozen=True)
class TrainConfig:
    """What `fsr train` was asked to do (stored in config.yaml; `--resume` rebuilds it from there)."""

    datasets: tuple[Path, ...]
    protocol: str
    model: str = "facesleuth-r"  # preset name or YAML path
    labels: str = "composite"
    epochs: int | None = None  # None: the preset's budget
    seed: int = 0
    seeds: tuple[int, ...] = ()  # several seeds in one run (train/seeds.py); then `seed` is unused
    select: str = "last"
    workers: int = 1
    executor: str = "local"  # or "ray" (train/executor.py); where folds run, not what they compute
    ray_address: str | None = None  # None: a local Ray instance for the run
    device: str = "auto"  # devices.resolve_device; recorded, resolved on the machine that trains
    cache_dir: Path | None = None
    final: bool = False
    model_overrides: dict[str, Any] = field(default_factory=dict)  # e.g. tiny widths in tests
    record_epochs: bool = False  # keep every epoch's test probabilities (fsr bench's leak figure)


@dataclass
class Reporter:
    """Progress callbacks of a run (all optional); the CLI fills them with Rich output."""

    start: Callable[[list[list[str]], int], None] | None = None  # (fold names per chunk, epochs)
    advance: Callable[[int, int, int], None] | None = None  # (chunk index, done epochs, total)
    fold_done: Callable[[str, bool], None] | None = None  # (fold name, resumed: skipped as finished)
    log: Callable[[str], None] | None = None


def check_config(cfg: TrainConfig) -> None:
    if cfg.protocol not in PROTOCOLS:
        raise UsageError(f"unknown --protocol {cfg.protocol!r}; choose one of: {', '.join(PROTOCOLS)}")
    if cfg.labels not in LABEL_SETS:
        raise UsageError(f"unknown --labels {cfg.labels!r}; choose one of: {', '.join(LABEL_SETS)}")
    check_selection(cfg.select)
    if not cfg.datasets:
        raise UsageError("no dataset given; fsr train DIR [DIR ...] --protocol loso")
    if cfg.cache_dir is not None and len(cfg.datasets) > 1:
        raise UsageError(
            "--cache-dir names one cache root; with several datasets give each cache root "
            "(or its prepared.json) as a DIR instead"
        )
    if len(cfg.seeds) == 1:
        raise UsageError("--seeds with one seed: give --seed N, or two or more seeds")
    if cfg.epochs is not None and cfg.epochs < 1:
        raise UsageError(f"--epochs {cfg.epochs}: give at least 1")
    check_executor(cfg.executor, cfg.ray_address)
    if cfg.executor == "local":
        from fsr_cli.devices import resolve_device

        resolve_device(cfg.device)  # a GPU this machine lacks is refused before anything is written


def resolve(cfg: TrainConfig):
    """(ModelConfig, FitConfig) for this run: the preset, its overrides, the class count and the budget."""
    from fsr_cli.model.config import load_preset
    from fsr_cli.model.plugins import is_plugin
    from fsr_cli.train.engine import FitConfig

    mcfg = load_preset(cfg.model, **{**cfg.model_overrides, "n_classes": len(LABEL_SETS[cfg.labels])})
    if is_plugin(mcfg.arch):  # its logits checked on two blank samples before anything starts
        from fsr_cli.model.network import build_model
        from fsr_cli.model.plugin_net import check_plugin

        check_plugin(build_model(mcfg))
    if not mcfg.trains_by_epoch:
        if cfg.final:
            raise UsageError(f"--final: preset {mcfg.name} keeps no network for `fsr predict`; drop --final")
        if cfg.epochs not in (None, mcfg.train.epochs) or cfg.select != "last":
            given = f"--select {cfg.select}" if cfg.select != "last" else f"--epochs {cfg.epochs}"
            raise UsageError(
                f"{given}: preset {mcfg.name} is fitted once, with no epochs to budget or choose; "
                "drop the option (its selection is the one fit)"
            )
    fit = FitConfig.from_model(
        mcfg,
        seed=cfg.seed,
        epochs=cfg.epochs or mcfg.train.epochs,
        record_test_each_epoch=cfg.record_epochs or cfg.select in ("test-oracle", "inner-val"),
    )
    return mcfg, fit


@dataclass(frozen=True)
class FoldData:
    """What every chunk of a run reads: sent once per worker (or put once into Ray's store)."""

    mcfg: Any
    fit: Any
    flow: np.ndarray
    app: np.ndarray
    y: np.ndarray
    device: str = "cpu"  # resolved where the chunk runs (a Ray worker may have the GPU)


def train_chunk(data: FoldData, folds: list, progress: Callable[[int, int], None]) -> list:
    """Train one chunk of folds together (runs in the executor's process); picklable, so any
    executor (process, cluster) can run it."""
    from fsr_cli.devices import resolve_device
    from fsr_cli.train.baselines import fit_svm_folds
    from fsr_cli.train.engine import fit_folds

    if not data.mcfg.trains_by_epoch:
        return fit_svm_folds(
            data.mcfg, data.fit, flow=data.flow, app=data.app, y=data.y, folds=folds, progress=progress
        )
    device = resolve_device(data.device)
    arrays = dict(flow=data.flow, app=data.app, y=data.y)
    return fit_folds(data.mcfg, data.fit, **arrays, folds=folds, progress=progress, device=device)


def save_fold(path: Path, result, *, mcfg, classes: list[str], extra: dict, val_idx=None) -> None:
    """probs.npz, then model.pt (networks only), then history.csv (the marker of a finished fold)."""
    from fsr_cli.model.checkpoint import save_checkpoint

    rundir.write_probs(
        path / rundir.PROBS,
        test_probs=result.test_probs,
        probs_each_epoch=result.test_probs_each_epoch,
        val_probs_each_epoch=result.val_probs_each_epoch,
        val_idx=val_idx,
    )
    if mcfg.trains_by_epoch:
        save_checkpoint(  # atomic itself (temp file + os.replace)
            path / rundir.MODEL,
            cfg=mcfg,
            state_dict=result.state_dict,
            classes=classes,
            norm=result.norm,
            extra=extra,
        )
    rundir.write_history(path / rundir.HISTORY, result.history)


def train_folds(
    feats: Features,
    targets: list[tuple[Any, Path]],
    *,
    mcfg,
    fit,
    executor: Executor,
    reporter: Reporter,
    extra: dict,
    device: str = "cpu",
) -> None:
    """Train each (fold, folder) whose folder is not finished; skip (and report) the finished ones.

    Every chunk that finishes is saved at once; a chunk that failed (after the executor's
    retries) is reported by fold once the others are done.

    Raises:
        FsrError: some folds failed; the finished ones are saved and `--resume` trains the rest.
    """
    todo = []
    for fold, path in targets:
        if rundir.is_finished(path):
            _call(reporter.fold_done, fold.name, True)
        else:
            todo.append((fold, path))
    if not todo:
        return
    chunks = chunk(todo, executor.workers)
    _call(reporter.start, [[f.name for f, _ in c] for c in chunks], fit.epochs)
    data = FoldData(mcfg, fit, feats.flow, feats.app, feats.y, device)
    jobs = [[f for f, _ in c] for c in chunks]
    failed: list[tuple[list[str], str]] = []
    for k, results in executor.map(train_chunk, jobs, shared=data, on_progress=reporter.advance):
        if isinstance(results, JobFailed):
            failed.append(([f.name for f, _ in chunks[k]], results.reason))
            continue
        for (fold, path), result in zip(chunks[k], results, strict=True):
            save_fold(
                path,
                result,
                mcfg=mcfg,
                classes=list(feats.classes),
                extra={**extra, "fold": fold.name},
                val_idx=fold.val_idx,
            )
            _call(reporter.fold_done, fold.name, False)
    if failed:
        names = [n for names, _ in failed for n in names]
        reasons = "; ".join(sorted({r for _, r in failed}))
        raise FsrError(
            f"{len(names)} fold(s) failed ({', '.join(names)}): {reasons}; the other folds are saved, "
            "and `fsr train --resume RUN` trains only the failed ones"
        )


def _call(fn, *args) -> None:
    if fn is not None:
        fn(*args)


def run_config_doc(cfg: TrainConfig, *, mcfg, fit, feats: Features, folds: list, sets) -> dict:
    """The fully resolved config.yaml."""
    from fsr_cli.model.config import preset_record

    return {
        "format": rundir.RUN_FORMAT,
        "version": rundir.RUN_VERSION,
        "protocol": cfg.protocol,
        "labels": cfg.labels,
        "classes": list(feats.classes),
        "datasets": [
            {
                "name": s.dataset,
                "path": str(p),
                "prepared": str((s.root / MANIFEST).resolve()),
                "preprocessing": s.preprocessing(),
            }
            for s, p in zip(sets, cfg.datasets, strict=True)
        ],
        "cache_dir": str(cfg.cache_dir) if cfg.cache_dir else None,
        "model_source": cfg.model,
        "preset": preset_record(cfg.model, mcfg.name),
        "model_overrides": dict(cfg.model_overrides),
        "model": asdict(mcfg),
        "fit": asdict(fit),
        "seed": cfg.seed,
        "selection": {
            "mode": cfg.select,
            "label": selection_label(cfg.select, epochs=fit.epochs)
            if mcfg.trains_by_epoch
            else "one fit (no epochs to choose; honest)",
        },
        "workers": cfg.workers,
        "executor": cfg.executor,
        "device": cfg.device,
        "final": cfg.final,
        "n_samples": len(feats),
        "labels_digest": rundir.labels_digest(
            feats.dataset, feats.subject, feats.clip, [feats.classes[int(y)] for y in feats.y]
        ),
        "excluded": feats.excluded,
        "folds": [f.name for f in folds],
    }


@dataclass(frozen=True)
class Plan:
    """A checked run before anything is written: the data, the model and its folds."""

    cfg: TrainConfig
    sets: list
    mcfg: Any
    fit: Any
    feats: Features
    folds: list


def plan_run(cfg: TrainConfig) -> Plan:
    """Check the configuration and the data; every usage error surfaces here, before a run folder exists.

    Raises:
        UsageError: bad protocol/labels/selection, unprepared data, unknown preset, or data the
            protocol cannot split (one subject for loso, one dataset for lodo).
    """
    check_config(cfg)
    sets = load_sets(list(cfg.datasets), cfg.cache_dir)
    mcfg, fit = resolve(cfg)
    feats = build_features(sets, label_set=cfg.labels, flow_size=mcfg.flow_size, app_size=mcfg.app_size)
    return Plan(cfg, sets, mcfg, fit, feats, make_folds(feats, cfg.protocol))


def _check_same_model(run: Path, mcfg) -> None:
    """A resumed run must train its remaining folds with the model it started with."""
    import json

    def plain(d: dict) -> dict:  # tuples and lists compare equal after a YAML round trip
        return json.loads(json.dumps(d, default=str))

    from fsr_cli.model.config import ModelConfig

    stored, now = rundir.read_config(run).get("model"), plain(asdict(mcfg))
    if stored is not None:  # as this fsr reads it (an earlier fsr wrote the recipe flat)
        stored = plain(asdict(ModelConfig.from_dict(stored, source=str(run / rundir.CONFIG), stored=True)))
    if stored is not None and stored != now:
        changed = sorted(k for k in set(stored) | set(now) if plain(stored).get(k) != now.get(k))
        raise UsageError(
            f"{run}: the model preset changed since this run started ({', '.join(changed)}); "
            "restore the preset or start a new run"
        )


def run_training(
    plan: Plan,
    *,
    run: Path,
    argv: list[str] | None = None,
    resume: bool = False,
    reporter: Reporter | None = None,
    executor: Executor | None = None,
) -> dict:
    """Train (or resume) a planned run into `run` and write all its outputs; returns metrics.json's document.

    `executor` (default: the one cfg names, started and closed for this call) runs the folds.

    Raises:
        UsageError: (with resume) the prepared data changed since the run started.
    """
    from fsr_cli.train import envinfo, outputs

    cfg, feats, folds, fit = plan.cfg, plan.feats, plan.folds, plan.fit
    reporter = reporter or Reporter()
    if executor is None:
        executor = open_executor(cfg)
        try:
            return run_training(plan, run=run, argv=argv, resume=resume, reporter=reporter, executor=executor)
        finally:
            close(executor)
    device = device_for(cfg)
    env = envinfo.env_doc(
        seed=cfg.seed,
        argv=argv,
        sets=plan.sets,
        workers=cfg.workers,
        execution={**executor.describe(), "device": device},
    )
    if resume:
        envinfo.check_same_data(run, env)
        _check_same_model(run, plan.mcfg)
        _record_final(run, cfg.final)
    else:
        doc = run_config_doc(cfg, mcfg=plan.mcfg, fit=fit, feats=feats, folds=folds, sets=plan.sets)
        rundir.write_yaml(run / rundir.CONFIG, doc)
        rundir.write_json(run / rundir.ENV, env)
    _call(
        reporter.log,
        f"{len(feats)} samples, {len(feats.classes)} classes, {len(folds)} {cfg.protocol} folds -> {run}",
    )
    extra = {
        "protocol": cfg.protocol,
        "labels": cfg.labels,
        "seed": cfg.seed,
        "epochs": fit.epochs,
        "preprocessing": [s.preprocessing() for s in plan.sets],
    }
    trained = folds
    if cfg.select == "inner-val":
        from fsr_cli.train.protocols import inner_val_folds
        from fsr_cli.train.selection import INNER_VAL_SHARE

        trained = inner_val_folds(folds, feats, seed=cfg.seed, share=INNER_VAL_SHARE)
    targets = [(f, rundir.fold_dir(run, f.name)) for f in trained]
    if cfg.final:  # issue 5: one model on every sample, for `fsr predict`
        targets.append((_final_fold(len(feats)), rundir.final_dir(run)))
    train_folds(
        feats,
        targets,
        mcfg=plan.mcfg,
        fit=fit,
        executor=executor,
        reporter=reporter,
        extra=extra,
        device=device,
    )
    return outputs.write_outputs(run, feats=feats, folds=folds, select=cfg.select)


def open_executor(cfg: TrainConfig) -> Executor:
    """The run's executor; under Ray each task asks for a GPU when the run is to train on one
    (`--device auto`: where the cluster has GPUs)."""
    gpus = {"cpu": 0, "auto": None}.get(cfg.device, 1)
    return make_executor(cfg.workers, executor=cfg.executor, address=cfg.ray_address, gpus=gpus)


def device_for(cfg: TrainConfig) -> str:
    """The device string the chunks get: resolved here for local runs, on the worker under Ray."""
    from fsr_cli.devices import resolve_device

    return resolve_device(cfg.device) if cfg.executor == "local" else cfg.device


def _record_final(run: Path, final: bool) -> None:
    doc = rundir.read_config(run)
    if final and not doc.get("final"):
        rundir.write_yaml(run / rundir.CONFIG, {**doc, "final": True})


def _final_fold(n: int):
    from fsr_cli.train.engine import Fold

    return Fold(name="final", train_idx=np.arange(n, dtype=np.int64), test_idx=np.arange(0, dtype=np.int64))
