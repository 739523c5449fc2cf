"""`fsr evaluate` (being built)."""

from fsr_cli.errors import FsrError


def evaluate() -> None:
    """Not available yet."""
    raise FsrError("fsr evaluate is not available yet")
