"""The single artifact cache of fsr (after joblib.Memory and DVC's stage cache).

An entry is addressed by key = sha256 of the canonical JSON of
{stage, version, params, inputs}, where `inputs` are the keys of upstream entries or the
content hashes of source files. It lives at `<root>/<stage>/<key[:2]>/<key>/` and holds
`arrays.npz` plus `meta.json` (stage, version, params, inputs, fsr version, time).

Writes are atomic: the entry is built in a temporary sibling folder and renamed into place with
os.replace, so a killed run leaves either a whole entry or nothing (stale temporaries are
ignored and removed by `clear`). Re-running with the same inputs finds the entry and does no work.

The cache owns only what it made: its root holds a marker file (`.fsr-cache`, written with the
first entry), its stages are the pipeline's four (STAGES), and `clear` refuses a folder without
the marker and a stage that is not one of them, so it never removes a dataset's own files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli import __version__
from fsr_cli.errors import CacheError, UsageError

ARRAYS = "arrays.npz"
META = "meta.json"
TMP_PREFIX = ".tmp-"
MARKER = ".fsr-cache"
STAGES = ("face", "align", "apex", "flow")  # the preprocess stages, in pipeline order


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

    def _dir(self, stage: str, key: str) -> Path:
        if stage not in STAGES:
            raise ValueError(f"unknown cache stage {stage!r}; the stages are {', '.join(STAGES)}")
        return self.root / stage / key[:2] / key

    def mark(self) -> None:
        """Claim the root as an fsr cache (the marker `clear` requires); idempotent, race-free."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.root / MARKER, "x") as f:
                f.write(json.dumps({"fsr": __version__, "what": "fsr artifact cache"}) + "\n")
        except FileExistsError:
            pass

    def check_writable(self) -> None:
        """Raise CacheError now, before any work, when entries could not be written under root."""
        try:
            self.mark()
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
        own = {*STAGES, MARKER, "prepared.json"}
        return all(
            p.name in own or p.name.startswith(("prepared.json", ".prepared.json", TMP_PREFIX))
            for p in self.root.iterdir()
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
        self.mark()
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=final.parent))
        try:
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
        finally:
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

    def clear(self, stage: str | None = None) -> int:
        """Remove all entries (of one stage) and temporaries; returns how many folders were removed.

        Raises:
            UsageError: `stage` is not one of STAGES, or the root is not an fsr cache (nothing is
                removed then).
        """
        if stage is not None and stage not in STAGES:
            raise UsageError(f"unknown --stage {stage!r}; choose one of: {', '.join(STAGES)}")
        if not self.root.is_dir():
            return 0
        if not self.owned():
            raise UsageError(
                f"{self.root} is not an fsr cache (no {MARKER} marker in it); nothing removed. "
                "Give the cache root (a dataset's .fsr/ folder, or the --cache-dir it was made with)"
            )
        n = 0
        for t in [self.root / s for s in ([stage] if stage else STAGES)]:
            if t.is_dir() and not t.is_symlink():
                n += sum(1 for _ in t.glob("??/*"))
                shutil.rmtree(t)
        return n
