"""`fsr theta show|maps` (being built)."""

import typer

app = typer.Typer(help="Learned SOA orientations of a run.", no_args_is_help=True)


@app.command("show")
def show() -> None:
    """Not available yet."""
