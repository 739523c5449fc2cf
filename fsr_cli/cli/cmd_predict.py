"""`fsr predict` (being built)."""

from fsr_cli.errors import FsrError


def predict() -> None:
    """Not available yet."""
    raise FsrError("fsr predict is not available yet")
