"""`fsr synth` (being built)."""

from fsr_cli.errors import FsrError


def synth() -> None:
    """Not available yet."""
    raise FsrError("fsr synth is not available yet")
