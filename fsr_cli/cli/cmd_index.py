"""`fsr index`: read a dataset in its native layout and report its samples and skipped rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import DatasetOpt, JsonOpt, emit_json, err_console
from fsr_cli.errors import EXIT_PARTIAL

LabelsOpt = Annotated[
    str, typer.Option("--labels", help="Label set of the counts: composite, casme2-5, samm-5.")
]
MAX_PROBLEMS_SHOWN = 40


def index(
    root: Annotated[Path, typer.Argument(help="Dataset folder as released (CASME II, SAMM, SMIC-HS, ...).")],
    dataset: DatasetOpt = "auto",
    labels: LabelsOpt = "composite",
    json_out: JsonOpt = False,
) -> None:
    """List the samples of a dataset folder, checked against the frames on disk.

    Prints counts per subject and label, and every skipped row with its file, row and reason.
    Exits 0 when every row was good, 3 when some rows were skipped.

    Example: fsr index data/CASME2 --labels casme2-5 --json
    """
    from fsr_cli.data import read_dataset
    from fsr_cli.data.summary import check_label_set, index_document

    check_label_set(labels)  # a bad --labels fails before the dataset is read
    table = read_dataset(root, dataset)
    doc = index_document(table, label_set=labels)
    if json_out:
        emit_json(doc)
    else:
        _render(doc)
    n_ok, n_bad = len(table.samples), len(table.problems)
    err_console.print(f"{table.dataset}: {n_ok} ok, {n_bad} skipped", highlight=False)
    if n_bad:
        raise typer.Exit(EXIT_PARTIAL)


def _render(doc: dict) -> None:
    from rich.table import Table

    from fsr_cli.data.summary import OUTSIDE

    counts = doc["counts"]
    keys = list(counts["by_label"])
    table = Table(title=f"{doc['dataset']}: samples per subject ({counts['label_set']})", caption=doc["root"])
    table.add_column("subject")
    for key in keys:
        table.add_column("outside" if key == OUTSIDE else key, justify="right")
    table.add_column("total", justify="right")
    for subject, row in counts["by_subject"].items():
        table.add_row(subject, *(str(row[k]) for k in keys), str(sum(row.values())))
    by_label = counts["by_label"]
    table.add_row("all", *(str(by_label[k]) for k in keys), str(doc["n_samples"]), style="bold")
    err_console.print(table)
    left_out = counts.get("left_out", [])
    if left_out:  # every sample counted as outside, with its reason
        err_console.print(f"left out of {counts['label_set']}: {len(left_out)} sample(s)", highlight=False)
        for r in left_out[:MAX_PROBLEMS_SHOWN]:
            line = f"  {r['sample']} ({r['emotion']}): {r['reason']}"
            err_console.print(line, highlight=False, markup=False, soft_wrap=True)
        if len(left_out) > MAX_PROBLEMS_SHOWN:
            err_console.print(f"  ... and {len(left_out) - MAX_PROBLEMS_SHOWN} more (see --json)")
    problems = doc["problems"]
    if problems:
        err_console.print(f"[yellow]skipped {len(problems)} row(s):[/yellow]")
        for p in problems[:MAX_PROBLEMS_SHOWN]:
            err_console.print(
                f"  {p['source']}: {p['reason']}", highlight=False, markup=False, soft_wrap=True
            )
        if len(problems) > MAX_PROBLEMS_SHOWN:
            err_console.print(f"  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more (see --json)")
