"""The single artifact cache of fsr (after joblib.Memory and DVC's stage cache).

An entry is addressed by key = sha256 of the canonical JSON of
{stage, version, params, inputs}, where `inputs` are the keys of upstream entries or the
content hashes of source files. It lives at `<root>/<stage>/<key[:2]>/<key>/` and holds
`arrays.npz` plus `meta.json` (stage, version, params, inputs, fsr version, time).

Writes are atomic: the entry is built in a temporary sibling folder and renamed into place with
os.replace, so a killed run leaves either a whole entry or nothing (stale temporaries are
ignored and removed by `clear`). Re-running with the same inputs finds the entry and does no work.

The cache owns only what it made. Its root is a folder fsr created, or one that was empty when
fsr claimed it: `claim` writes a marker file (`.fsr-cache`) there and refuses a non-empty folder
without one (a home folder, a dataset, `/`). `clear` refuses a folder without the marker and a
stage that is not one of the pipeline's four (STAGES), and removes only entries: folders
`<stage>/<key[:2]>/<key>` whose name is a key and which hold meta.json, and the temporaries of
killed writers. A user's own file that happens to lie under a stage folder is never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli import __version__
from fsr_cli.errors import CacheError, FsrError, UsageError
from fsr_cli.files import apply_umask

ARRAYS = "arrays.npz"
META = "meta.json"
TMP_PREFIX = ".tmp-"
MARKER = ".fsr-cache"
LOCK = ".fsr-lock"  # held by whoever writes prepared.json or clears (Cache.writing)
STAGES = ("face", "align", "apex", "flow")  # the preprocess stages, in pipeline order
KEY = re.compile(r"[0-9a-f]{64}")  # an entry folder's name: a sha256 (make_key)


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def make_key(stage: str, version: int, params: dict, inputs: list[str]) -> str:
    """Content address of an artifact: sha256 of canonical JSON of what determines it."""
    doc = {"stage": stage, "version": version, "params": params, "inputs": list(inputs)}
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


def file_hash(path: Path, *, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes (source frames and spreadsheets enter keys through this)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Entry:
    stage: str
    key: str
    path: Path

    @property
    def meta(self) -> dict:
        return json.loads((self.path / META).read_text())

    def load(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path / ARRAYS, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise CacheError(f"corrupt cache entry {self.path}: {exc}; run `fsr cache clear`") from exc

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())


class Cache:
    """A content-addressed store of numpy artifacts under one root folder."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self._holding = False  # this object holds the writer lock (writing() is reentrant)

    def _dir(self, stage: str, key: str) -> Path:
        if stage not in STAGES:
            raise ValueError(f"unknown cache stage {stage!r}; the stages are {', '.join(STAGES)}")
        return self.root / stage / key[:2] / key

    def claim(self) -> None:
        """Make the root an fsr cache, or confirm that it is one; idempotent and race-free.

        Raises:
            UsageError: the root is a file, or a non-empty folder fsr did not make (nothing is
                written into it then).
        """
        if (self.root / MARKER).is_file():
            return
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(f"{self.root} is a file, not a folder; give a folder for the cache")
        busy = self.root.is_dir() and not self.owned() and any(self.root.iterdir())
        if busy and not (self.root / MARKER).is_file():  # a concurrent claim writes the marker first
            raise UsageError(
                f"{self.root} is a folder fsr did not make and it is not empty (no {MARKER} marker); "
                "fsr writes its cache only into a new or empty folder: give one, e.g. "
                f"{self.root / '.fsr'}"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.root / MARKER, "x") as f:
                f.write(json.dumps({"fsr": __version__, "what": "fsr artifact cache"}) + "\n")
        except FileExistsError:
            pass

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the root's writer lock (an flock on ROOT/.fsr-lock, released when the holder ends,
        even by kill -9): a second import, preprocess or clear of the same root waits, then sees
        what the first one wrote."""
        import fcntl

        if self._holding:
            yield
            return
        self.claim()
        try:
            fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise CacheError(
                f"{self.root / LOCK}: could not be opened ({exc.strerror or exc}); "
                "give a writable --cache-dir"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._holding = True
            yield
        finally:
            self._holding = False
            os.close(fd)

    def check_writable(self) -> None:
        """Raise CacheError now, before any work, when entries could not be written under root."""
        try:
            self.claim()
            fd, probe = tempfile.mkstemp(prefix=TMP_PREFIX, dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise CacheError(
                f"cache {self.root} is not writable ({exc.strerror or exc}); give a writable --cache-dir"
            ) from exc

    def owned(self) -> bool:
        """Whether the root is an fsr cache: it holds the marker, or (made before the marker
        existed) it is a `.fsr` folder holding nothing but stage folders and fsr's own files."""
        if (self.root / MARKER).is_file():
            return True
        if self.root.name != ".fsr" or not self.root.is_dir():
            return False
        own = {*STAGES, MARKER, LOCK, "prepared.json"}
        return all(
            p.name in own or p.name.startswith(("prepared.json", ".prepared.json", TMP_PREFIX))
            for p in self.root.iterdir()
        )

    def check_owned(self) -> None:
        """Raise UsageError (nothing is removed) where the root is not an fsr cache."""
        if not self.owned():
            raise UsageError(
                f"{self.root} is not an fsr cache (no {MARKER} marker in it); nothing removed. "
                "Give the cache root (a dataset's .fsr/ folder, or the --cache-dir it was made with)"
            )

    def get(self, stage: str, key: str) -> Entry | None:
        path = self._dir(stage, key)
        return Entry(stage, key, path) if (path / META).is_file() else None

    def put(
        self, stage: str, key: str, arrays: dict[str, np.ndarray], meta: dict, *, replace: bool = False
    ) -> Entry:
        """Write an entry atomically; a concurrent writer of the same key is harmless.

        With `replace`, an existing entry of the key is moved aside first (`--force`).
        """
        final = self._dir(stage, key)
        self.claim()
        tmp = None
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=final.parent))
            apply_umask(tmp, directory=True)  # mkdtemp makes it 0700: others could not read the entry
            np.savez(tmp / ARRAYS, **arrays)
            full_meta = {"stage": stage, "key": key, "fsr": __version__, "time": time.time(), **meta}
            (tmp / META).write_text(json.dumps(full_meta, indent=1, sort_keys=True, default=str))
            if replace and final.exists():
                old = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=final.parent))
                os.replace(final, old)
                shutil.rmtree(old, ignore_errors=True)
            try:
                os.replace(tmp, final)
            except OSError:  # another process finished the same entry first
                if not (final / META).is_file():
                    raise
        except OSError as exc:
            raise CacheError(
                f"{final}: could not be written ({exc.strerror or exc}); free some disk space "
                "or give a writable --cache-dir, then run again"
            ) from exc
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        return Entry(stage, key, final)

    def cached(
        self,
        stage: str,
        version: int,
        params: dict,
        inputs: list[str],
        compute: Callable[[], tuple[dict[str, np.ndarray], dict]],
        *,
        force: bool = False,
    ) -> tuple[Entry, bool]:
        """Return (entry, hit). On a miss, `compute()` gives (arrays, extra meta) to store.

        `force` computes and replaces the entry even when it exists.
        """
        key = make_key(stage, version, params, inputs)
        entry = None if force else self.get(stage, key)
        if entry is not None:
            return entry, True
        arrays, extra = compute()
        meta = {"version": version, "params": params, "inputs": list(inputs), **extra}
        return self.put(stage, key, arrays, meta, replace=force), False

    def entries(self, stage: str | None = None) -> list[Entry]:
        if not self.root.is_dir() or (stage is not None and stage not in STAGES):
            return []
        stages = [stage] if stage else [s for s in STAGES if (self.root / s).is_dir()]
        out = []
        for st in stages:
            for meta in sorted((self.root / st).glob(f"??/*/{META}")):
                if not meta.parent.name.startswith(TMP_PREFIX):
                    out.append(Entry(st, meta.parent.name, meta.parent))
        return out

    def temporaries(self) -> list[Path]:
        """Unfinished entry folders left by a killed writer (ignored by reads, removed by clear)."""
        if not self.root.is_dir():
            return []
        return sorted(p for s in STAGES for p in self.root.glob(f"{s}/??/{TMP_PREFIX}*"))

    def _entry_dirs(self, stage: str) -> list[Path]:
        """The folders of one stage that fsr wrote: entries (a key-named folder holding meta.json,
        under the folder of its first two characters) and temporaries of killed writers."""
        out = []
        for p in (self.root / stage).glob("??/*"):
            if p.is_symlink() or not p.is_dir():
                continue
            entry = KEY.fullmatch(p.name) and p.name[:2] == p.parent.name and (p / META).is_file()
            if entry or p.name.startswith(TMP_PREFIX):
                out.append(p)
        return out

    def clear(self, stage: str | None = None) -> int:
        """Remove the entries (of one stage) and temporaries; returns how many folders were removed.

        Only what fsr wrote goes (see _entry_dirs); a folder left empty by it is removed too.

        Raises:
            UsageError: `stage` is not one of STAGES, or the root is not an fsr cache (nothing is
                removed then).
            FsrError: a folder could not be removed (a read-only file system), naming it.
        """
        if stage is not None and stage not in STAGES:
            raise UsageError(f"unknown --stage {stage!r}; choose one of: {', '.join(STAGES)}")
        if not self.root.is_dir():
            return 0
        self.check_owned()
        n = 0
        with self.writing():
            for st in [stage] if stage else STAGES:
                top = self.root / st
                if not top.is_dir() or top.is_symlink():
                    continue
                for path in self._entry_dirs(st):
                    _remove(path)
                    n += 1
                for sub in [*top.glob("??"), top]:  # what the removal left empty
                    try:
                        sub.rmdir()
                    except OSError:
                        pass
        return n


def _remove(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise FsrError(
            f"{path}: could not be removed ({exc.strerror or exc}); is the cache on a read-only file system?"
        ) from exc
