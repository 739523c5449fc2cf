"""`fsr cache ls|info|clear` (being built)."""

import typer

app = typer.Typer(help="Inspect and clear the artifact cache.", no_args_is_help=True)


@app.command("ls")
def ls() -> None:
    """Not available yet."""
