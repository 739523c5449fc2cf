"""The `fsr` Typer application: registers the command modules and maps FsrError to exit codes."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fsr_cli import __version__
from fsr_cli.cli import (
    cmd_bench,
    cmd_cache,
    cmd_checks,
    cmd_evaluate,
    cmd_import_flow,
    cmd_index,
    cmd_predict,
    cmd_preprocess,
    cmd_spot,
    cmd_synth,
    cmd_theta,
    cmd_theta_maps,
    cmd_train,
)
from fsr_cli.errors import FsrError


def _flag_type(self, ctx):
    """Help shows no value placeholder for a flag: `--json`, never `--json <bool>`, which reads
    as if it took a value (and `--json true` then fails)."""
    return None if self.is_flag else _typed(self, ctx)


_typed = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_type

app = typer.Typer(
    name="fsr",
    help="FaceSleuth-R micro-expression recognition: synth -> preprocess -> train -> evaluate -> predict."
    "\n\nExample: fsr preprocess data/casme2 && fsr train data/casme2 --protocol loso",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fsr {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    """FaceSleuth-R micro-expression recognition toolkit."""
    _state["debug"] = debug


app.command("checks")(cmd_checks.checks)
app.command("synth")(cmd_synth.synth)
app.command("index")(cmd_index.index)
app.command("preprocess")(cmd_preprocess.preprocess)
app.command("import-flow")(cmd_import_flow.import_flow)
app.add_typer(cmd_cache.app, name="cache")
app.command("train")(cmd_train.train)
app.command("evaluate")(cmd_evaluate.evaluate)
app.command("bench")(cmd_bench.bench)
app.command("predict")(cmd_predict.predict)
app.command("spot")(cmd_spot.spot)
cmd_theta.app.command("maps")(cmd_theta_maps.maps)
app.add_typer(cmd_theta.app, name="theta")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: FsrError becomes one red line on stderr and its exit code.

    Usage errors (unknown option, missing argument) are Typer's own: a message and exit 2.
    Other exceptions are bugs: one line naming them, exit 1, the traceback with --debug.
    """
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        app(args=argv)
    except FsrError as exc:
        if debug:
            raise
        _fail(str(exc), exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        _fail(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)", 1)


def _fail(message: str, code: int) -> None:
    from fsr_cli.cli.common import err_console

    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True, markup=True)
    sys.exit(code)
