"""`fsr theta show`: the learned SOA orientation of each layer, per fold and over training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import JsonOpt, emit_json, err_console

app = typer.Typer(
    help="Learned SOA orientations of a run.\n\nExample: fsr theta show runs/train/exp --plot theta.png",
    no_args_is_help=True,
)


@app.command("show")
def show(
    runs: Annotated[list[Path], typer.Argument(help="Run folders made by `fsr train` (one or more).")],
    json_out: JsonOpt = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Write a figure (.png, .pdf, .svg): angle over epochs per layer and a polar view."
        ),
    ] = None,
) -> None:
    """Per layer: the final angle (degrees) of every fold, mean +/- std, and its trajectory.

    90 degrees is FaceSleuth's vertical attention (the SOA bins are image rows).
    Runs without learned angles say so (cva: fixed at 90; no-orientation: no SOA layer).
    --json: {"layers": [{"layer", "mean_deg", "std_deg", "per_fold", ...}]}; {"runs": [...]} for several.

    Example: fsr theta show runs/train/exp runs/train/exp2 --plot theta.png
    """
    from fsr_cli.evaluation.report import theta_tables
    from fsr_cli.train.theta import load_theta, summarise
    from fsr_cli.train.theta import plot as plot_theta

    if plot is not None:
        from fsr_cli.files import check_image_path

        check_image_path(plot, "--plot")
    summaries = [summarise(load_theta(r), run=str(r)) for r in runs]
    for s in summaries:
        if s["soa"] != "learned":
            err_console.print(f"{s['run']} ({s['model']}): {s['message']}", highlight=False)
        if s["layers"]:
            err_console.print(*theta_tables(s))
    if plot is not None:
        err_console.print(f"plot saved to {plot_theta(summaries, plot)}", highlight=False, soft_wrap=True)
    if json_out:
        emit_json(summaries[0] if len(summaries) == 1 else {"runs": summaries})
