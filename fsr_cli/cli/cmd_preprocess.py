"""`fsr preprocess` (being built)."""

from fsr_cli.errors import FsrError


def preprocess() -> None:
    """Not available yet."""
    raise FsrError("fsr preprocess is not available yet")
