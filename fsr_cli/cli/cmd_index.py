"""`fsr index` (being built)."""

from fsr_cli.errors import FsrError


def index() -> None:
    """Not available yet."""
    raise FsrError("fsr index is not available yet")
