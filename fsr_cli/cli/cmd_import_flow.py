"""`fsr import-flow`: bring precomputed u/v/strain images in as a prepared dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import JsonOpt, emit_json, err_console
from fsr_cli.errors import EXIT_PARTIAL


def import_flow(
    labels: Annotated[
        Path,
        typer.Argument(
            help="CSV: dataset, subject, sample, label, flow [, appearance]; paths relative to it.",
            metavar="LABELS.csv",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the prepared dataset.", show_default=False)
    ],
    channels: Annotated[
        str,
        typer.Option("--channels", help="What the flow image's R, G, B channels hold: an order of u, v, s."),
    ] = "uvs",
    size: Annotated[
        int | None,
        typer.Option("--size", help="Resize flows to SIZE x SIZE (default: the first image's size)."),
    ] = None,
    face_size: Annotated[
        int | None,
        typer.Option(
            "--face-size",
            min=8,
            max=1024,
            help="Side of the stored appearance image (default: its own, at most 256).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a prepared.json in --out that another import or preprocess wrote."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Import precomputed flow images (u, v, strain scaled 0-255) as a dataset `fsr train` accepts.

    Flows are stored as float32 in [0, 1] (prepared.json says scaled=true); appearance images as grey,
    at their own resolution (at most 256 px, or --face-size): training resizes them to the preset's.

    Bad rows (missing file, unknown label, unreadable image) are listed by CSV row and skipped; exit 3
    (exit 1 when no row could be imported).
    An --out that already holds another dataset's prepared.json is refused unless --force.

    Example: fsr import-flow composite/labels.csv --out prepared/composite --channels uvs --json
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from fsr_cli.preprocess.importer import ImportConfig, import_csv, read_rows

    config = ImportConfig(channels=channels, size=size, face_size=face_size, force=force)
    total = len(read_rows(labels)) if labels.is_file() else None
    with Progress(
        TextColumn("import"), BarColumn(), MofNCompleteColumn(), console=err_console, transient=True
    ) as bar:
        task = bar.add_task("rows", total=total)
        report = import_csv(labels, out, config=config, on_row=lambda: bar.advance(task))
    doc = report.summary()
    if report.manifest is not None:
        from fsr_cli.prepared import record_last_prepared

        record_last_prepared([report.manifest])
    code = 1 if not report.records else EXIT_PARTIAL if report.problems else 0
    doc["exit_code"] = code
    if json_out:
        emit_json(doc)
    else:
        err_console.print(
            f"imported {doc['ok']} of {doc['rows']} rows ({doc['computed']} new, {doc['cached']} cached) "
            f"at {doc['size']} px into {out}"
        )
        for p in doc["failed"]:
            err_console.print(f"[red]row {p['row']}[/red]: {p['reason']}", highlight=False)
        if not report.records:
            err_console.print("[red]nothing imported[/red]: no prepared.json written")
    if code:
        raise typer.Exit(code)
