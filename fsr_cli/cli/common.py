"""Shared option aliases and output helpers for the commands.

Logs, progress and tables go to stderr; stdout carries only the one JSON document of `--json`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

err_console = Console(stderr=True)

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout (logs go to stderr).")
]
CacheDirOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="Artifact cache root (default: <dataset>/.fsr/).")
]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Parallel worker processes.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (recorded in every output).")]
DatasetOpt = Annotated[
    str, typer.Option("--dataset", help="Dataset kind: auto, casme2, samm, smic, casme3, mmew.")
]


def _jsonable(obj: Any) -> Any:
    """Turn numpy scalars/arrays, paths and non-finite floats into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy scalar or array
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def emit_json(doc: Any) -> None:
    """Print exactly one JSON document on stdout."""
    typer.echo(json.dumps(_jsonable(doc), indent=2, sort_keys=False))


def info(message: str) -> None:
    err_console.print(message)
