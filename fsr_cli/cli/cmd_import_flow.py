"""`fsr import-flow` (being built)."""

from fsr_cli.errors import FsrError


def import_flow() -> None:
    """Not available yet."""
    raise FsrError("fsr import-flow is not available yet")
