"""Writing files: whole or not at all, and documents in plain JSON values.

Atomic writes: readers see the old file or the whole new one, never a part of it.

`atomic_write(path, write)` lets `write(tmp)` fill a temporary file unique to this writer in the
target's folder, then renames it over `path` (os.replace, atomic on one file system). When the
write fails (a full disk: OSError ENOSPC, or torch's `RuntimeError: ... unexpected pos`), the
temporary is removed and the failure is one line naming the file that could not be written.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def jsonable(obj: Any) -> Any:
    """Turn numpy scalars/arrays, paths and non-finite floats into plain JSON (and YAML) values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy scalar or array
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
