"""Shared option aliases and output helpers for the commands.

Logs, progress and tables go to stderr; stdout carries only the one JSON document of `--json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from fsr_cli.files import jsonable

err_console = Console(stderr=True)

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout (logs go to stderr).")
]
CacheDirOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="Artifact cache root (default: <dataset>/.fsr/).")
]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Parallel worker processes.")]
TrainWorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Worker processes, one torch thread each (default: one per core; 1: this process).",
    ),
]


def train_workers(workers: int | None, device: str) -> int:
    """--workers of the commands that train: by default one 1-thread process per core (small
    tensors train faster so than on two threads of one process); one on a GPU."""
    if workers is not None:
        return workers
    from fsr_cli.train.workers import default_workers

    return 1 if device.startswith("cuda") else default_workers()


ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where the work runs: local (this machine, --workers processes) or ray (Ray tasks; "
        'pip install -e ".\\[ray]").',
    ),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        help="Ray cluster to join (auto or HOST:PORT); default: a local instance for the run.",
    ),
]
DeviceOpt = Annotated[
    str,
    typer.Option("--device", help="auto (a GPU when torch sees one, else the CPU), cpu, cuda or cuda:N."),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (recorded in every output).")]
DatasetOpt = Annotated[
    str, typer.Option("--dataset", help="Dataset kind: auto, casme2, samm, smic, casme3, mmew.")
]


def emit_json(doc: Any) -> None:
    """Print exactly one JSON document on stdout."""
    typer.echo(json.dumps(jsonable(doc), indent=2, sort_keys=False))


def info(message: str) -> None:
    err_console.print(message)


def quiet_ffmpeg() -> None:
    """Keep FFmpeg's own log lines ('moov atom not found', 'overread') off stderr, where they would
    break a video's one-line error; OPENCV_FFMPEG_LOGLEVEL=32 in the environment shows them again."""
    import os

    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
