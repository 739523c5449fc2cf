"""`fsr evaluate`: the tables of finished runs, recomputed from their predictions.csv, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import JsonOpt, emit_json, err_console


def evaluate(
    runs: Annotated[list[Path], typer.Argument(help="Run folders made by `fsr train` (one or more).")],
    json_out: JsonOpt = False,
) -> None:
    """Recompute UF1 / UAR / accuracy (pooled, per dataset, per fold) from each run's predictions.csv.

    With several runs, also a side-by-side comparison (e.g. SOA vs CVA vs no-orientation) and each
    run's UF1 difference from the first run with a 95 % paired bootstrap interval over subjects
    (2000 draws of the subjects with replacement, seed 0; both runs scored on every draw).
    Runs whose epochs were chosen on the test labels (--select test-oracle) are flagged LEAKAGE.
    --json prints the metrics of one run, or {"runs": [...]} for several.

    Example: fsr evaluate runs/train/exp runs/train/exp2 runs/train/exp3
    """
    from fsr_cli.evaluation import compare_runs, comparison_rows, comparison_warnings, evaluate_run
    from fsr_cli.evaluation.report import (
        comparison_tables,
        difference_table,
        fold_table,
        notes,
        seeds_table,
        summary_table,
    )

    docs = [evaluate_run(r) for r in runs]
    for doc in docs:
        if len(docs) == 1:
            err_console.print(fold_table(doc))
        err_console.print(summary_table(doc, title=doc["run"]))
        if (table := seeds_table(doc)) is not None:
            err_console.print(table)
        for line in notes(doc):
            err_console.print(line, highlight=False)
    diffs = compare_runs(runs, docs) if len(docs) > 1 else []
    warnings = []
    if len(docs) > 1:
        rows = comparison_rows(docs)
        warnings = comparison_warnings(rows)
        for table in comparison_tables(rows):
            err_console.print(table)
        err_console.print(difference_table(diffs))
        for w in warnings:
            err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False, soft_wrap=True)
        for d in diffs:
            if d["only_a"] or d["only_b"]:
                err_console.print(
                    f"warning: {d['a']} and {d['b']} differ in samples ({d['only_a']} only in the first, "
                    f"{d['only_b']} only in the second); the difference uses the "
                    f"{d['n_samples']} shared ones",
                    highlight=False,
                )
    if json_out:
        emit_json(docs[0] if len(docs) == 1 else {"runs": docs, "differences": diffs, "warnings": warnings})
