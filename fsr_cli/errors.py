"""The one small exception tree of fsr. The CLI converts it once into a red line and an exit code."""

from __future__ import annotations


class FsrError(Exception):
    """A runtime failure the user can act on (exit code 1)."""

    exit_code = 1


class UsageError(FsrError):
    """Bad arguments or an input that cannot be the requested kind of thing (exit code 2)."""

    exit_code = 2


class DatasetError(FsrError):
    """A dataset folder or annotation file that cannot be read."""


class SampleError(FsrError):
    """One sample failed; batch commands report it and go on with the others."""


class CacheError(FsrError):
    """The artifact cache is unreadable or inconsistent."""


# Exit code of a batch command where some samples failed and the others finished.
EXIT_PARTIAL = 3
