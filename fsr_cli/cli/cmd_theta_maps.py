"""`fsr theta maps`: the SOA attention of each layer over the aligned face, for one clip or sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import DeviceOpt, JsonOpt, emit_json, err_console, quiet_ffmpeg


def maps(
    run: Annotated[Path, typer.Argument(help="Run folder made by `fsr train`.")],
    sample_or_clip: Annotated[
        str,
        typer.Argument(
            metavar="SAMPLE_OR_CLIP",
            help="A video / folder of frames, or a sample 'dataset/subject/clip' of the run's prepared data.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file to write.")],
    fold: Annotated[
        str | None,
        typer.Option(
            "--fold",
            help="Fold name (e.g. casme2/01) or 'final'. Default: a sample's held-out fold; "
            "for a clip the final model, else the first fold.",
        ),
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option("--fps", min=1.0, help="Frame rate of a folder of frames (default: the run's)."),
    ] = None,
    device: DeviceOpt = "auto",
    json_out: JsonOpt = False,
) -> None:
    """Draw each SOA layer's attention map over the aligned face, with the learned angle.

    One panel per layer (the paper's Figure 3): the gate over the face, the angle in the title
    and an arrow along the SOA profile axis (90 degrees = image rows, FaceSleuth's vertical
    attention); the first panel shows the aligned apex face and its onset->apex flow.

    Example: fsr theta maps demo/run casme2/01/EP01_06 --out maps.png
    """

    import torch

    from fsr_cli.files import check_image_path
    from fsr_cli.predict.theta_maps import theta_maps

    check_image_path(out, "--out")

    quiet_ffmpeg()
    torch.set_num_threads(1)  # one forward pass of a small network (see fsr predict)
    doc = theta_maps(run, sample_or_clip, out=out, fold=fold, fps=fps, device=device)
    angles = ", ".join(f"layer {d['layer']} {d['theta_deg']:.1f}°" for d in doc["layers"])
    err_console.print(f"{doc['source']} ({doc['model']}): {angles}", highlight=False, soft_wrap=True)
    err_console.print(f"attention maps written to {doc['out']}", highlight=False, soft_wrap=True)
    if json_out:
        emit_json(doc)
