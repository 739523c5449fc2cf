"""Rich progress of a training run on stderr: one bar per chunk of folds, one line per finished fold."""

from __future__ import annotations

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fsr_cli.train.runner import Reporter


@contextmanager
def rich_reporter(console: Console):
    """Yield a Reporter that draws on `console` (stderr) while the run trains."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("epochs"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: list[int] = []

    def start(chunks: list[list[str]], epochs: int) -> None:
        tasks.clear()  # a new seed: its chunks get new bars (the finished ones stay on screen)
        for names in chunks:
            label = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]} ({len(names)} folds)"
            tasks.append(progress.add_task(f"training {label}", total=epochs))

    def advance(index: int, done: int, total: int) -> None:
        progress.update(tasks[index], completed=done, total=total)

    def fold_done(name: str, resumed: bool) -> None:
        progress.console.print(
            f"  fold {name}: " + ("finished earlier, skipped" if resumed else "done"), highlight=False
        )

    with progress:
        yield Reporter(
            start=start,
            advance=advance,
            fold_done=fold_done,
            log=lambda m: progress.console.print(m, highlight=False),
        )
