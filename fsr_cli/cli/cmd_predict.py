"""`fsr predict`: the class of a micro-expression in a video or a folder of frames."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import DeviceOpt, JsonOpt, emit_json, err_console, quiet_ffmpeg

MAX_FPS = 10000.0  # the fastest cameras of the MER datasets run at 200 fps


def predict(
    clips: Annotated[list[Path], typer.Argument(help="Video files (mp4, avi, ...) or folders of frames.")],
    run: Annotated[
        Path | None,
        typer.Option("--run", help="Run folder of `fsr train`: its final model, else the fold ensemble."),
    ] = None,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="One model.pt instead of a run.")
    ] = None,
    onset: Annotated[
        int | None,
        typer.Option(
            "--onset",
            min=0,
            help="Onset frame (default: the first; video: 0-based index; folder: number in the file name).",
        ),
    ] = None,
    apex: Annotated[int | None, typer.Option("--apex", min=0, help="Apex frame (default: spotted).")] = None,
    fps: Annotated[
        float | None,
        typer.Option("--fps", min=1.0, help="Frame rate (default: the video's, else the run's)."),
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write a results table (one row per clip).")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Predict even where the quality gate finds the footage unreadable (marked forced).",
        ),
    ] = False,
    spot: Annotated[
        bool,
        typer.Option(
            "--spot", help="Long videos: spot every micro-expression (as fsr spot) and classify each."
        ),
    ] = False,
    device: DeviceOpt = "auto",
    json_out: JsonOpt = False,
) -> None:
    """Detect and align the face, spot the apex, compute the TV-L1 flow and run the trained model.

    The onset is the first frame unless --onset is given; the apex is spotted between the onset
    and the last frame unless --apex is given. A quality gate (face size, one face, the face tracked,
    head drift, flow size) gives footage it cannot read no label (exit 1; 3 for some of several);
    --force predicts anyway and marks the result forced. Models and face detectors are loaded once for
    all clips. With several clips, failed ones are reported and the exit code is 3.

    --spot: a long video holds several micro-expressions or none; each interval `fsr spot` finds
    is classified as a clip of its own (its onset, spotted apex and offset).

    Example: fsr predict clip.mp4 --run runs/train/exp --json
    Example: fsr predict recording.mp4 --spot --run runs/train/exp --csv labelled.csv
    """
    import math

    import torch

    from fsr_cli import predict as lib
    from fsr_cli.errors import EXIT_PARTIAL, UsageError

    if (run is None) == (checkpoint is None):
        raise UsageError("give exactly one of --run RUN or --checkpoint FILE")
    lib.check_clip_paths(clips)
    if spot and (onset is not None or apex is not None):
        raise UsageError(
            "--spot finds each interval's onset and apex; give --spot or --onset/--apex, not both"
        )
    if csv_out is not None:
        from fsr_cli.spot.outputs import CSV_HEADER

        lib.check_csv_target(csv_out, clips, header=CSV_HEADER if spot else None)
    if fps is not None and not (math.isfinite(fps) and fps <= MAX_FPS):
        raise UsageError(f"--fps {fps} is not a frame rate; give one between 1 and {MAX_FPS:g}")
    quiet_ffmpeg()
    predictor = lib.load_predictor(run=run, checkpoint=checkpoint, device=device)
    # One clip is one forward pass of a small network: a second intra-op thread only adds
    # OpenMP barrier waits, which cost 100x the pass itself when the cores are busy.
    torch.set_num_threads(1)
    for w in predictor.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False, soft_wrap=True)
    if spot:
        _spot_and_predict(clips, predictor, fps=fps, force=force, csv_out=csv_out, json_out=json_out)
        return
    if len(clips) == 1:
        results = [lib.predict_clip(clips[0], predictor, onset=onset, apex=apex, fps=fps, force=force)]
    else:
        results = _with_progress(clips, predictor, onset=onset, apex=apex, fps=fps, force=force)
    if csv_out is not None:
        lib.write_csv(csv_out, results, predictor.classes)
    err_console.print(_table(results, predictor))
    for r in results:
        for line in lib.stream_warnings(Path(r["clip"]).name, r.get("quality")):
            err_console.print(f"[yellow]warning:[/yellow] {line}", highlight=False, soft_wrap=True)
    for r in results:
        if "error" in r:
            what = "[yellow]no label:[/yellow]" if lib.status(r) == "no label" else "[red]failed:[/red]"
            err_console.print(f"{what} {r['error']}", highlight=False, soft_wrap=True)
    if csv_out is not None:
        err_console.print(f"results written to {csv_out}", highlight=False, soft_wrap=True)
    failed = [r for r in results if "error" in r]
    if json_out:
        emit_json(_document(results, predictor))
    if failed:
        raise typer.Exit(EXIT_PARTIAL if len(failed) < len(results) else 1)


def _spot_and_predict(clips, predictor, *, fps, force, csv_out, json_out) -> None:
    from rich.table import Table

    from fsr_cli.errors import EXIT_PARTIAL, FsrError
    from fsr_cli.predict.spotted import predict_spotted
    from fsr_cli.spot import outputs

    results = []
    with err_console.status("spotting and classifying") as status:
        for c in clips:
            status.update(f"spotting and classifying {c.name}")
            try:
                results.append(predict_spotted(c, predictor, fps=fps, force=force))
            except FsrError as exc:
                results.append({"clip": str(c), "error": str(exc), "quality": getattr(exc, "quality", None)})
    table = Table(title="micro-expressions spotted and classified", title_justify="left")
    for col in ("clip", "onset", "apex", "offset", "seconds", "label", "p"):
        table.add_column(col, justify="left" if col in ("clip", "label") else "right")
    for r in results:
        name = Path(r["clip"]).name
        if "error" in r:
            table.add_row(name, "", "", "", "", "failed", "", style="red")
            continue
        for iv in r["spot"]["intervals"]:
            p = f"{max(iv['probabilities'].values()):.2f}" if iv.get("label") else ""
            span = f"{iv['onset_s']:.2f}-{iv['offset_s']:.2f}"
            row = (
                name,
                str(iv["onset"]),
                str(iv["apex"]),
                str(iv["offset"]),
                span,
                iv.get("label") or "no label",
                p,
            )
            table.add_row(*row)
        if not r["spot"]["intervals"]:
            table.add_row(name, "-", "-", "-", "none spotted", "-", "")
    err_console.print(table)
    for r in results:
        if "error" in r:
            err_console.print(f"[red]failed:[/red] {r['error']}", highlight=False, soft_wrap=True)
    if csv_out is not None:
        rows = [r if "error" in r else r["spot"] | {"video": r["clip"]} for r in results]
        outputs.write_csv(csv_out, [x | {"video": x.get("video", x.get("clip"))} for x in rows])
        err_console.print(f"results written to {csv_out}", highlight=False, soft_wrap=True)
    if json_out:
        emit_json({"classes": list(predictor.classes), "model": predictor.kind, "results": results})
    failed = [r for r in results if "error" in r]
    if failed:
        raise typer.Exit(EXIT_PARTIAL if len(failed) < len(results) else 1)


def _with_progress(clips, predictor, **kw) -> list[dict]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fsr_cli import predict as lib

    columns = (TextColumn("predict"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("predict", total=len(clips))
        return lib.predict_clips(clips, predictor, on_done=lambda r: bar.advance(task), **kw)


def _document(results: list[dict], predictor) -> dict:
    model = {
        "model": predictor.kind,
        "model_source": str(predictor.source),
        "model_files": [str(p) for p in predictor.paths],
        "model_load_s": round(predictor.load_s, 4),  # once for all clips; each clip's timings.load
        # is the reading of its own video, and its elapsed_s the whole clip (see docs/commands.md)
        "warnings": list(predictor.warnings),
    }
    if len(results) == 1:
        return {**results[0], **model}
    ok = sum("error" not in r for r in results)
    clean = [{k: v for k, v in r.items() if k != "exit_code"} for r in results]
    return {"clips": clean, "summary": {"ok": ok, "failed": len(results) - ok}, **model}


def _table(results: list[dict], predictor):
    from rich import box
    from rich.table import Table

    from fsr_cli.predict import status

    title = f"fsr predict — {predictor.kind} ({predictor.source})"
    seconds = sum(r.get("elapsed_s", 0.0) for r in results)
    spotted = any(r.get("apex", {}).get("source") == "spotted" for r in results)
    caption = (
        ("* spotted apex. " if spotted else "")
        + f"{len(results)} clip(s) in {seconds:.2f} s (models loaded once in {predictor.load_s:.2f} s); "
        "face boxes and timings: --json, --csv"
    )
    table = Table(
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
    )
    for col in ("clip", "label", *predictor.classes, "onset", "apex"):
        right = col not in ("clip", "label")
        table.add_column(col, justify="right" if right else "left", no_wrap=True)
    for r in results:
        if "error" in r:
            what = "[yellow]no label[/yellow]" if status(r) == "no label" else "[red]failed[/red]"
            table.add_row(Path(r["clip"]).name, what, *["-"] * (len(predictor.classes) + 2))
            continue
        on, ap = r["onset"], r["apex"]
        star = "*" if ap["source"] == "spotted" else ""
        table.add_row(
            Path(r["clip"]).name,
            f"[bold]{r['label']}[/bold]" + (" [yellow](forced)[/yellow]" if status(r) == "forced" else ""),
            *(f"{r['probabilities'][c]:.3f}" for c in predictor.classes),
            f"{on['frame']} {on['time_s']:.3f}s",
            f"{ap['frame']}{star} {ap['time_s']:.3f}s",
        )
    return table
