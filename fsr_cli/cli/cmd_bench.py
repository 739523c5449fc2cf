"""`fsr bench`: published methods, fsr's presets and your own model, trained alike, in one table."""

from __future__ import annotations

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


def bench(
    datasets: Annotated[list[Path], typer.Argument(help="Prepared dataset folders (as for fsr train).")],
    models: Annotated[
        str, typer.Option("--models", help="Comma-separated presets or plugins; 'all': every shipped model.")
    ] = "all",
    protocols: Annotated[str, typer.Option("--protocols", help="Comma-separated: loso, lodo.")] = "loso,lodo",
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated seeds of every run.")] = "0,1,2",
    labels: Annotated[str, typer.Option("--labels", help="Label set (as for fsr train).")] = "composite",
    out: Annotated[Path, typer.Option("--out", help="Bench folder: one run per model and protocol.")] = Path(
        "runs/bench"
    ),
    workers: TrainWorkersOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    device: DeviceOpt = "auto",
    cache_dir: CacheDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Train every (model, protocol, seed) as an ordinary run under OUT, then write the leaderboard.

    Each run is honest (the last epoch of the model's fixed budget); beside it the same training's
    figure with each fold's epoch picked on its test subjects (test-oracle: the leak, measured) and
    the paper's published figure. OUT/leaderboard.md, .csv, .tex (booktabs), .json and forest.png.
    Finished runs are skipped: a killed bench resumes where it stopped.

    Example: fsr bench prepared/composite --models facesleuth-r,svm-flow-std,offapexnet --seeds 0,1,2
    """
    from fsr_cli.evaluation import leaderboard
    from fsr_cli.model.config import list_presets
    from fsr_cli.model.zoo import PUBLISHED
    from fsr_cli.train.bench import BenchConfig, parse_list, plan_bench, run_bench, time_summary
    from fsr_cli.train.progress import rich_reporter
    from fsr_cli.train.seeds import parse_seeds

    shipped = list_presets()
    names = shipped if models.strip() == "all" else list(parse_list(models, "models"))
    from fsr_cli.model.plugins import is_plugin

    own = [m for m in names if is_plugin(m) or Path(m).suffix in (".yaml", ".yml")]
    unknown = [m for m in names if m not in shipped and m not in own]
    if unknown:
        from fsr_cli.errors import UsageError

        raise UsageError(
            f"--models: unknown {', '.join(unknown)}; known: {', '.join(shipped)} (or FILE.py:Class)"
        )
    cfg = BenchConfig(
        datasets=tuple(datasets),
        out=out,
        models=tuple(names),
        protocols=parse_list(protocols, "protocols"),
        seeds=parse_seeds(seeds),
        labels=labels,
        workers=train_workers(workers, device),
        executor=executor,
        ray_address=ray_address,
        device=device,
        cache_dir=cache_dir,
    )
    plans = plan_bench(cfg)  # every usage error before anything is trained

    def log(line: str) -> None:
        err_console.print(line, highlight=False, soft_wrap=True)

    with rich_reporter(err_console) as reporter:
        entries = run_bench(cfg, plans, reporter=reporter, log=log)
    table = leaderboard.rows(entries, PUBLISHED)
    seeds_text = ", ".join(map(str, cfg.seeds))
    caption = (
        f"UF1 / UAR: mean ± std over seeds {seeds_text}, pooled over folds, last epoch of each model's "
        "fixed budget; ensemble: the seeds' averaged probabilities with a 95 % bootstrap interval "
        "over subjects; test-oracle: the same training with each fold's epoch picked on its test "
        "labels (leakage); published: the paper's composite figure and its selection."
    )
    written = leaderboard.write(out, table, caption=caption)
    err_console.print((out / "leaderboard.md").read_text(), highlight=False, markup=False, soft_wrap=True)
    err_console.print(
        f"leaderboard written to {', '.join(str(p) for p in written)}", highlight=False, soft_wrap=True
    )
    err_console.print(time_summary(entries), highlight=False, soft_wrap=True)
    if json_out:
        timing = {e["model"] + "/" + e["protocol"]: e["seconds"] for e in entries}
        emit_json({"rows": table, "caption": caption, "files": [str(p) for p in written], "seconds": timing})
