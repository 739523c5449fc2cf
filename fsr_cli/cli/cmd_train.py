"""`fsr train` (being built)."""

from fsr_cli.errors import FsrError


def train() -> None:
    """Not available yet."""
    raise FsrError("fsr train is not available yet")
