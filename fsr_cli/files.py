"""Writing files: whole or not at all, and documents in plain JSON values.

Atomic writes: readers see the old file or the whole new one, never a part of it.

`atomic_write(path, write)` lets `write(tmp)` fill a temporary file unique to this writer in the
target's folder, then renames it over `path` (os.replace, atomic on one file system). When the
write fails (a full disk: OSError ENOSPC, or torch's `RuntimeError: ... unexpected pos`), the
temporary is removed and the failure is one line naming the file that could not be written.
The file gets the permissions a plain `open(path, "w")` would give (0666 less the umask), not
the 0600 of the temporary: colleagues and Ray workers of another user read runs and caches.

`load_yaml(path)` reads the YAML fsr writes and people edit (run configs, presets):
plain values only, no aliases (an alias bomb would expand to gigabytes), at most MAX_YAML_BYTES.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsr_cli.errors import FsrError

MAX_YAML_BYTES = 1 << 20  # a run's config.yaml is a few kB; a preset less


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it (and put it back at once)
    os.umask(mask)
    return mask


def apply_umask(path: Path, *, directory: bool = False) -> None:
    """Give a file (0666) or folder (0777) made private by mkstemp/mkdtemp the umask's permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


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
        apply_umask(tmp)
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


IMAGE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")  # what matplotlib writes from the name


def check_image_path(path: Path, option: str) -> Path:
    """A figure's file name must end in a suffix that says its format (matplotlib would otherwise
    write PATH.png, or fail on the temporary's suffix); checked before any work.

    Raises:
        UsageError: naming the option and the fix.
    """
    from fsr_cli.errors import UsageError

    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(
            f"{option} {path}: give a file name ending in {', '.join(IMAGE_SUFFIXES)}, "
            f"e.g. {path.with_suffix('.png')}"
        )
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name, e.g. {path / 'figure.png'}")
    return path


def save_figure(fig, path: Path, *, dpi: int = 100) -> Path:
    """Write a matplotlib figure atomically (format from the suffix; see check_image_path)."""
    path = check_image_path(path, "figure")
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(
        path,
        lambda tmp: fig.savefig(tmp, dpi=dpi, format=path.suffix[1:].lower().replace("jpg", "jpeg")),
        suffix=path.suffix,
    )


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


class _Alias(Exception):
    def __init__(self, event):
        super().__init__(f"YAML alias *{event.anchor} (line {event.start_mark.line + 1})")


def _no_alias_loader():
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise _Alias(self.peek_event())
            return super().compose_node(parent, index)

    return NoAliasLoader


def load_yaml(path: Path):
    """A YAML file of plain values (safe_load) that holds no alias and is at most MAX_YAML_BYTES.

    Raises:
        FsrError: unreadable, too large, an alias, or not valid YAML; one line naming the file.
    """
    import yaml

    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_YAML_BYTES:
            raise FsrError(f"{source}: {size} bytes, more than fsr writes or reads ({MAX_YAML_BYTES})")
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FsrError(f"{source}: could not be read ({exc.strerror or exc})") from exc
    try:
        return yaml.load(text, Loader=_no_alias_loader())  # a SafeLoader that refuses aliases
    except _Alias as exc:
        raise FsrError(
            f"{source}: {exc}; fsr writes no aliases and reads none: write the value out"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise FsrError(f"{source}: not valid YAML{where}") from exc


def dump_yaml(doc) -> str:
    """YAML of plain values, every repeated value written out (never an alias, which load_yaml refuses)."""
    import yaml

    class NoAliasDumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    return yaml.dump(jsonable(doc), Dumper=NoAliasDumper, sort_keys=False)
