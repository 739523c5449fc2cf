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
        str,
        typer.Option(
            "--layout",
            "-l",
            help="Native layout: casme2, samm, smic, video (mp4 clips) or long (long videos to spot in).",
        ),
    ] = "casme2",
    subjects: Annotated[
        int, typer.Option("--subjects", help="Number of subjects (distinct identities).")
    ] = 4,
    clips: Annotated[int, typer.Option("--clips", help="Clips per subject (long: videos per subject).")] = 6,
    seed: SeedOpt = 0,
    angle: Annotated[
        float,
        typer.Option("--angle", help="Rotate every motion direction by DEG degrees (0 = vertical motion)."),
    ] = 0.0,
    size: Annotated[
        int | None, typer.Option("--size", help="Frame width in pixels (default 320; smic 256; video 640).")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option("--seconds", help="--layout long: each video's length (default 60).")
    ] = None,
    fps: Annotated[
        float | None, typer.Option("--fps", help="--layout long: frames per second (default 30; 25-240).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a synthetic micro-expression dataset in CASME II, SAMM, SMIC or video layout.

    Each clip: one micro-expression of known class, onset/apex/offset and motion direction.

    Subjects are distinct identities made from skimage's astronaut photo (dlib finds each face).

    Besides its own files the folder gets fsr_ground_truth.csv and fsr_synth.json; same seed, same output.

    --layout long: minutes-long videos, each holding several micro-expressions among blinks,
    speech, nods, head turns and macro-expressions; the truth in fsr_spot_truth.csv (for fsr spot).

    Example: fsr synth demo/casme2 --layout casme2 --subjects 4 --clips 6 --seed 0
    Example: fsr synth demo/long --layout long --subjects 1 --clips 2 --seconds 60 --fps 30
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fsr_cli.synth import GROUND_TRUTH, check_request, dataset_bytes, read_marker, write_dataset
    from fsr_cli.synth.layouts import SPOT_TRUTH

    # Refuse bad input before the progress bar starts, so the error stays one line.
    extra = {"seconds": seconds, "fps": fps}
    check_request(
        out, layout=layout, subjects=subjects, clips=clips, seed=seed, angle=angle, size=size, **extra
    )
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
            **extra,
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
        "ground_truth": str(root.resolve() / (SPOT_TRUTH if layout == "long" else GROUND_TRUTH)),
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
