"""`fsr spot`: micro-expression intervals in long videos, scored with the MEGC metric on a truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import JsonOpt, emit_json, err_console, quiet_ffmpeg


def spot(
    videos: Annotated[list[Path], typer.Argument(help="Videos (or folders of frames, with --fps).")],
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="Ground truth, a CSV (video, onset, offset[, apex, type]) or a release's sheet: MEGC.",
        ),
    ] = None,
    fps: Annotated[
        float | None,
        typer.Option(
            "--fps", help="Frame rate (default: the video's; frame folders: the --truth release's)."
        ),
    ] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write the intervals (one row each).")] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Folder for a timeline figure per video (<video>.png).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Find micro-expression intervals (onset, apex, offset, score) in long videos.

    Motion over a lag of 0.2 s (half a micro-expression's longest), head motion removed, eyes
    masked, scored against each video's own noise; brief, isolated excursions are spotted,
    macro-expressions and speech are not. With --truth the MEGC metric: a spotted interval is a
    hit at IoU >= 0.5 with a true micro-expression; precision, recall, F1 pooled over videos.
    A video that cannot be read, or whose face is not held, is reported; the others finish
    (exit 1 for one video, 3 for some of several).

    Example: fsr spot demo/long/long_videos/01/*.mp4 --truth demo/long/fsr_spot_truth.csv --plot spots/
    """
    from fsr_cli.errors import EXIT_PARTIAL, FsrError, UsageError
    from fsr_cli.predict.clips import check_clip_paths
    from fsr_cli.predict.results import check_csv_target
    from fsr_cli.spot import megc, outputs, spot_video

    check_clip_paths(videos)
    quiet_ffmpeg()
    if fps is not None and not (0 < fps < 10_000):
        raise UsageError(f"--fps must be a positive frame rate, got {fps}")
    rows = megc.read_truth(truth) if truth is not None else None
    from fsr_cli.data.long import FPS, kind_of

    folder_fps = FPS.get(kind_of(truth)) if truth is not None else None  # a release's frame folders
    if csv_out is not None:
        check_csv_target(csv_out, videos, header=outputs.CSV_HEADER)
    if plot is not None and plot.exists() and not plot.is_dir():
        raise UsageError(f"--plot {plot} is a file; give a folder for the figures")
    results, done = [], []
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("spot {task.description}"),
        BarColumn(),
        TextColumn("{task.completed} frames"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        for v in videos:
            task = bar.add_task(v.name, total=None)
            try:
                s = spot_video(
                    v,
                    fps=fps,
                    folder_fps=folder_fps,
                    progress=lambda n, task=task: bar.update(task, completed=n),
                )
            except FsrError as exc:
                results.append({"video": str(v), "error": str(exc), "quality": getattr(exc, "quality", None)})
                continue
            finally:
                bar.remove_task(task)
            results.append(s.as_dict())
            done.append(s)
            if plot is not None:
                outputs.timeline(plot / f"{v.stem}.png", s, rows)
    doc = {"videos": results}
    if rows is not None:
        doc["evaluation"] = megc.evaluate(
            {s.path: [(i["onset"], i["offset"]) for i in s.intervals] for s in done}, rows
        )
    if csv_out is not None:
        outputs.write_csv(csv_out, results)
    _report(results, doc.get("evaluation"))
    if json_out:
        emit_json(doc)
    failed = [r for r in results if r.get("error")]
    if failed:
        raise typer.Exit(EXIT_PARTIAL if len(failed) < len(results) else 1)


def _report(results: list[dict], evaluation: dict | None) -> None:
    from rich.table import Table

    table = Table(title="spotted micro-expressions", title_justify="left")
    for c in ("video", "onset", "apex", "offset", "seconds", "score"):
        table.add_column(c, justify="left" if c == "video" else "right")
    for r in results:
        name = Path(r["video"]).name
        if r.get("error"):
            table.add_row(name, "", "", "", "failed", "", style="red")
            err_console.print(f"failed: {r['error']}", highlight=False, soft_wrap=True, markup=False)
            continue
        if not r["intervals"]:
            table.add_row(name, "-", "-", "-", "none spotted", "-")
        for iv in r["intervals"]:
            span = f"{iv['onset_s']:.2f}-{iv['offset_s']:.2f}"
            table.add_row(
                name, str(iv["onset"]), str(iv["apex"]), str(iv["offset"]), span, f"{iv['score']:.1f}"
            )
    err_console.print(table)
    from fsr_cli.predict.results import stream_warnings

    for r in results:
        for line in stream_warnings(Path(r["video"]).name, r.get("quality")):
            err_console.print(f"[yellow]warning:[/yellow] {line}", highlight=False, soft_wrap=True)
    if evaluation is not None:
        e = evaluation
        err_console.print(
            f"MEGC (IoU >= {e['iou']}): precision {e['precision']:.3f}, recall {e['recall']:.3f}, "
            f"F1 {e['f1']:.3f} ({e['tp']} hits of {e['spotted']} spotted, {e['true']} true; "
            f"{e['on_macro']} spotted on macro-expressions)",
            highlight=False,
            soft_wrap=True,
        )
