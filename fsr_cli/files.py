"""Writing a file so that readers see the old file or the whole new one, never a part of it.

`atomic_write(path, write)` lets `write(tmp)` fill a temporary file unique to this writer in the
target's folder, then renames it over `path` (os.replace, atomic on one file system). When the
write fails (a full disk: OSError ENOSPC, or torch's `RuntimeError: ... unexpected pos`), the
temporary is removed and the failure is one line naming the file that could not be written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from fsr_cli.errors import FsrError


def atomic_write(path: Path, write: Callable[[Path], object], *, suffix: str = ".tmp") -> Path:
    """Write `path` through `write(tmp)` and an atomic rename; returns path.

    Raises:
        FsrError: the file could not be written (its temporary is gone, an older `path` is kept).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise FsrError(f"{path}: could not be written ({exc.strerror or exc})") from exc
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        reason = getattr(exc, "strerror", None) or text
        raise FsrError(
            f"{path}: could not be written ({reason}); free some disk space and run again"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path
