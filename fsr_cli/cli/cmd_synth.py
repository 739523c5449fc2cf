"""`fsr synth`: a small dataset in a release's native layout, made from a real face photo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import JsonOpt, SeedOpt, emit_json, err_console


def synth(
    out: Annotated[
        Path, typer.Argument(help="Dataset folder to create (new, empty, or an earlier synth output).")
    ],
    layout: Annotated[
        str, typer.Option("--layout", "-l", help="Native layout: casme2, samm, smic or video (mp4 clips).")
    ] = "casme2",
    subjects: Annotated[
        int, typer.Option("--subjects", help="Number of subjects (distinct identities).")
    ] = 4,
    clips: Annotated[int, typer.Option("--clips", help="Clips per subject.")] = 6,
    seed: SeedOpt = 0,
    angle: Annotated[
        float,
        typer.Option("--angle", help="Rotate every motion direction by DEG degrees (0 = vertical motion)."),
    ] = 0.0,
    size: Annotated[
        int | None, typer.Option("--size", help="Frame width in pixels (default 320; smic 256; video 640).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a synthetic micro-expression dataset in CASME II, SAMM, SMIC or video layout.

    Each clip: one micro-expression of known class, onset/apex/offset and motion direction.

    Subjects are distinct identities made from skimage's astronaut photo (dlib finds each face).

    Besides its own files the folder gets fsr_ground_truth.csv and fsr_synth.json; same seed, same output.

    Example: fsr synth demo/casme2 --layout casme2 --subjects 4 --clips 6 --seed 0
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fsr_cli.synth import GROUND_TRUTH, check_request, dataset_bytes, read_marker, write_dataset

    # Refuse bad input before the progress bar starts, so the error stays one line.
    check_request(out, layout=layout, subjects=subjects, clips=clips, seed=seed, angle=angle, size=size)
    start = time.perf_counter()
    columns = (TextColumn("synth {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(layout, total=None)
        root = write_dataset(
            out,
            layout=layout,
            subjects=subjects,
            clips=clips,
            seed=seed,
            angle=angle,
            size=size,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    marker = read_marker(root)
    doc = {
        "root": str(root.resolve()),
        "layout": marker["layout"],
        "n_clips": marker["n_clips"],
        "n_subjects": marker["n_subjects"],
        "seed": seed,
        "angle_deg": angle,
        "ground_truth": str(root.resolve() / GROUND_TRUTH),
        "bytes": dataset_bytes(root),
    }
    if json_out:
        emit_json(doc)
        return
    w, h = marker["frame_size"]
    n_sub = doc["n_subjects"]
    err_console.print(
        f"wrote {doc['n_clips']} {doc['layout']} clips of {n_sub} subject{'s' if n_sub != 1 else ''} "
        f"({w}x{h}, {marker['fps']:g} fps) to {root} — {doc['bytes'] / 1e6:.1f} MB "
        f"in {time.perf_counter() - start:.1f} s\n"
        f"ground truth: {doc['ground_truth']}",
        highlight=False,
        soft_wrap=True,
    )
