"""`fsr train`: LOSO / LODO training of a model preset on prepared datasets, into a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import (
    CacheDirOpt,
    DeviceOpt,
    ExecutorOpt,
    JsonOpt,
    RayAddressOpt,
    TrainWorkersOpt,
    emit_json,
    err_console,
    train_workers,
)
from fsr_cli.errors import UsageError
from fsr_cli.model.config import list_presets


def train(
    datasets: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Prepared dataset folders (or their cache roots / prepared.json); required unless --resume.",
            show_default=False,
        ),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            help="loso (leave one subject out) or lodo (leave one dataset out); required unless --resume.",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help=f"Preset (default facesleuth-r; one of {', '.join(list_presets())}), a YAML file, "
            "or a plugin FILE.py:Class.",
        ),
    ] = None,
    labels: Annotated[
        str | None, typer.Option("--labels", help="Label set: composite (default), casme2-5, samm-5.")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", help="Epoch budget (default: the preset's).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (default 0; recorded).")] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            "--seeds",
            help="Several seeds in one run, e.g. 0,1,2: each seed's predictions kept, metrics as "
            "mean +/- std over seeds and of the seed ensemble.",
        ),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            "--select",
            help="last (honest, default), inner-val (honest: best epoch on a validation split of each "
            "fold's training subjects) or test-oracle (LEAKAGE: best epoch on the test fold).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run folder (default: runs/train/exp, exp2, ...).")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Finish an interrupted run: skip its finished folds.")
    ] = None,
    workers: TrainWorkersOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    device: DeviceOpt = "auto",
    cache_dir: CacheDirOpt = None,
    final: Annotated[
        bool,
        typer.Option("--final", help="Also fit one model on all samples (RUN/final/model.pt, for predict)."),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Train one model per fold (LOSO or LODO) and write the run directory with its metrics.

    Several datasets under loso is the composite protocol (subjects stay distinct per dataset).
    Model selection is honest by default: every fold uses its last epoch (the fixed budget).
    --select inner-val holds 20% of each fold's training subjects out and takes their best epoch.
    --select test-oracle takes each fold's best epoch on its own test labels: labelled LEAKAGE.
    --resume RUN trains only the folds RUN has not finished, then recomputes the pooled outputs.

    --executor ray trains the chunks as Ray tasks (a local instance, or --ray-address of a cluster).

    Example: fsr train data/casme2 data/samm data/smic --protocol loso --labels composite --workers 2
    """
    from fsr_cli.evaluation.report import fold_table, notes, seeds_table, summary_table
    from fsr_cli.train.progress import rich_reporter
    from fsr_cli.train.resume import config_from_run
    from fsr_cli.train.rundir import new_run
    from fsr_cli.train.runner import TrainConfig, plan_run
    from fsr_cli.train.seeds import parse_seeds, train_run

    workers = train_workers(workers, device)
    if seed is not None and seeds is not None:
        raise UsageError("give --seed N or --seeds A,B,C, not both")
    seed_list = parse_seeds(seeds) if seeds is not None else ()
    if len(seed_list) == 1:
        seed, seed_list = seed_list[0], ()

    if resume is not None:
        given = {
            "datasets": tuple(datasets or ()),
            "protocol": protocol,
            "model": model,
            "labels": labels,
            "epochs": epochs,
            "seed": seed,
            "seeds": seed_list,
            "select": select,
            "cache_dir": cache_dir,
            "final": final,
            "workers": workers,
            "executor": executor,
            "ray_address": ray_address,
            "device": device,
        }
        if out is not None and Path(out).resolve() != Path(resume).resolve():
            raise UsageError(f"--out {out} and --resume {resume} name different runs; give only --resume")
        plan, run = plan_run(config_from_run(resume, given)), Path(resume)
    else:
        if not datasets:
            from fsr_cli.prepared import default_datasets

            datasets, why = default_datasets(Path.cwd())
            shown = ", ".join(str(d) for d in datasets)
            err_console.print(
                f"no dataset given: training on {shown} ({why})", highlight=False, soft_wrap=True
            )
        if protocol is None:
            raise UsageError("missing --protocol; give --protocol loso (leave one subject out) or lodo")
        cfg = TrainConfig(
            datasets=tuple(datasets),
            protocol=protocol,
            model=model or "facesleuth-r",
            labels=labels or "composite",
            epochs=epochs,
            seed=0 if seed is None else seed,
            seeds=seed_list,
            select=select or "last",
            workers=workers,
            executor=executor,
            ray_address=ray_address,
            device=device,
            cache_dir=cache_dir,
            final=final,
        )
        plan = plan_run(cfg)
        run = None  # made by train_run once the executor is up: a usage error leaves no folder behind
    made: list[Path] = []

    def make_run() -> Path:
        made.append(run or new_run(out))
        return made[0]

    with rich_reporter(err_console) as reporter:
        metrics = train_run(
            plan, run=make_run, argv=["fsr", *sys.argv[1:]], resume=resume is not None, reporter=reporter
        )
    run = made[0]
    err_console.print(fold_table(metrics))
    err_console.print(summary_table(metrics, title="seed ensemble" if metrics.get("seeds") else "pooled"))
    if (table := seeds_table(metrics)) is not None:
        err_console.print(table)
    for line in notes(metrics):
        err_console.print(line, highlight=False)
    err_console.print(f"run saved to {run}", highlight=False)
    if json_out:
        emit_json(metrics)
