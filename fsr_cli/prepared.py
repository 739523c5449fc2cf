"""The prepared-dataset format: what `fsr preprocess` and `fsr import-flow` write and `fsr train` reads.

A prepared dataset is a cache root (default `<dataset>/.fsr/`) holding `prepared.json` and
the `flow` stage entries it points to. Format version PREPARED_VERSION:

prepared.json
    {"format": "fsr-prepared", "version": 1, "dataset": "casme2", "source": "<dataset folder>",
     "params": {...preprocess parameters...},
     "samples": [{"dataset", "subject", "clip", "emotion", "label3", "onset", "apex", "offset",
                  "apex_source": "annotated" | "spotted" | "imported", "entry": "flow/ab/abcd..."}]}

flow entry `arrays.npz` (all H = W = the preprocess --size, default 128):
    flow      float32 (3, H, W)  u, v (pixels, onset -> apex, x right / y down) and optical strain
    onset     uint8   (H, W)     aligned onset frame, grey
    apex      uint8   (H, W)     aligned apex frame, grey (the appearance stream's input)

Imported flows (`fsr import-flow`) keep the file's 0-255 scaling, stored as float32 in [0, 1],
and `"scaled": true` in the manifest; training normalises on the training folds either way.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from fsr_cli.cache import Cache
from fsr_cli.errors import CacheError, FsrError, UsageError
from fsr_cli.files import atomic_write

PREPARED_FORMAT = "fsr-prepared"
PREPARED_VERSION = 1
MANIFEST = "prepared.json"
FLOW_STAGE = "flow"


@dataclass(frozen=True)
class PreparedSample:
    dataset: str
    subject: str
    clip: str
    emotion: str
    label3: str | None
    onset: int
    apex: int
    offset: int
    apex_source: str
    entry: str  # path of the flow entry, relative to the cache root

    @property
    def uid(self) -> str:
        return f"{self.dataset}/{self.subject}/{self.clip}"

    @property
    def group(self) -> str:
        return f"{self.dataset}/{self.subject}"


def preprocessing_record(params: dict, *, scaled: bool) -> dict:
    """The part of a manifest's params (and its `scaled` flag) that `fsr predict` must repeat."""
    return {"size": params.get("size"), "remove_drift": params.get("remove_drift"), "scaled": bool(scaled)}


@dataclass
class PreparedSet:
    """One prepared dataset: its manifest and lazy access to the arrays."""

    root: Path  # the cache root holding prepared.json
    dataset: str
    params: dict
    samples: list[PreparedSample]
    scaled: bool = False
    source: str = ""  # the dataset folder it was prepared from

    def preprocessing(self) -> dict:
        """What `fsr predict` must repeat on a new clip: crop side, drift removal, imported or not.

        Training stores it in config.yaml and in every checkpoint, so a run or a lone model.pt
        keeps it when the prepared data are gone. Imported flows have no crop or drift setting.
        """
        return preprocessing_record(self.params, scaled=self.scaled)

    def load(self, sample: PreparedSample) -> dict[str, np.ndarray]:
        path = self.root / sample.entry / "arrays.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            again = (
                f"fsr import-flow {self.source} --out {self.root} --force"
                if self.scaled
                else f"fsr preprocess {self.source}"
            )
            raise CacheError(
                f"{path}: missing or damaged artifact of {sample.uid} ({type(exc).__name__}); "
                f"run `{again}` again"
            ) from exc


def write_manifest(
    cache: Cache, *, dataset: str, source: Path, params: dict, samples: list[PreparedSample], scaled=False
) -> Path:
    doc = {
        "format": PREPARED_FORMAT,
        "version": PREPARED_VERSION,
        "dataset": dataset,
        "source": str(source),
        "params": params,
        "scaled": scaled,
        "samples": [s.__dict__ for s in samples],
    }
    cache.claim()
    path = cache.root / MANIFEST
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(doc, indent=1)))  # unique per writer


def check_replaceable(manifest: Path, source: Path, *, fix: str) -> None:
    """Refuse to replace a prepared.json made from another source (another dataset folder or CSV):
    one --cache-dir or --out shared by two datasets would silently keep only the last one.

    Raises:
        UsageError: naming the manifest, its source and `fix`.
    """
    if not manifest.is_file():
        return
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        theirs = doc["source"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        theirs = None
    if theirs != str(Path(source).resolve()):
        raise UsageError(
            f"{manifest} already holds a prepared dataset of {theirs or 'unknown origin'}, "
            f"not of {source}; {fix}"
        )


def find_manifest(path: Path, cache_dir: Path | None = None) -> Path:
    """Locate prepared.json for a dataset folder, a cache root or the manifest itself."""
    path = Path(path)
    candidates = [path] if path.name == MANIFEST else []
    if cache_dir is not None:
        candidates.append(Path(cache_dir) / MANIFEST)
    candidates += [path / ".fsr" / MANIFEST, path / MANIFEST]
    for c in candidates:
        if c.is_file():
            return c
    if not path.exists():
        raise UsageError(f"{path}: no such folder")
    raise UsageError(
        f"{path}: not preprocessed (no {MANIFEST}); run `fsr preprocess {path}` "
        "or `fsr import-flow LABELS.csv --out DIR` first"
    )


def load_prepared(path: Path, cache_dir: Path | None = None) -> PreparedSet:
    """Read and check a prepared.json.

    Raises:
        FsrError: the manifest is damaged (not JSON, not the format, a sample with missing or extra
            fields, an entry that is not `flow/<ab>/<key>` inside the cache): one line naming it.
    """
    manifest = find_manifest(path, cache_dir)
    again = "run `fsr preprocess` (or `fsr import-flow`) again"
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FsrError(f"{manifest}: damaged, not readable JSON ({type(exc).__name__}); {again}") from None
    if not isinstance(doc, dict):
        raise FsrError(f"{manifest}: damaged, not a prepared dataset (a JSON object); {again}")
    if doc.get("format") != PREPARED_FORMAT or doc.get("version") != PREPARED_VERSION:
        raise UsageError(
            f"{manifest}: prepared format {doc.get('format')!r} v{doc.get('version')} is not "
            f"{PREPARED_FORMAT} v{PREPARED_VERSION}; run `fsr preprocess` again"
        )
    if not isinstance(doc.get("samples"), list) or not isinstance(doc.get("params", {}), dict):
        raise FsrError(f"{manifest}: damaged (no samples list); {again}")
    samples = [_sample(s, i, manifest, again) for i, s in enumerate(doc["samples"])]
    return PreparedSet(
        manifest.parent,
        str(doc.get("dataset", "")),
        doc.get("params", {}),
        samples,
        bool(doc.get("scaled", False)),
        str(doc.get("source", "")),
    )


_FIELDS = {f.name: f.type for f in fields(PreparedSample)}
ENTRY = re.compile(rf"{FLOW_STAGE}/([0-9a-f]{{2}})/(\1[0-9a-f]{{62}})")  # what write_manifest records


def _sample(raw, i: int, manifest: Path, again: str) -> PreparedSample:
    where = f"{manifest}: sample {i + 1}"
    if not isinstance(raw, dict) or set(raw) != set(_FIELDS):
        have = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise FsrError(f"{where} is damaged (fields {have}, expected {sorted(_FIELDS)}); {again}")
    ints, optional = ("onset", "apex", "offset"), ("label3",)
    for k, v in raw.items():
        ok = isinstance(v, int) if k in ints else isinstance(v, str) or (v is None and k in optional)
        if not ok or isinstance(v, bool):
            raise FsrError(f"{where} is damaged ({k} = {v!r}); {again}")
    if not ENTRY.fullmatch(raw["entry"]):
        raise FsrError(
            f"{where}: entry {raw['entry']!r} is not a cache entry ({FLOW_STAGE}/<ab>/<key>) inside "
            f"{manifest.parent}; the manifest was edited or damaged, {again}"
        )
    return PreparedSample(**raw)


LAST_PREPARED = "last-prepared.json"  # in the user's cache folder: what the last preprocess wrote


def user_cache_dir() -> Path:
    """$XDG_CACHE_HOME/fsr, else ~/.cache/fsr."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fsr"


def record_last_prepared(manifests: list[Path]) -> None:
    """Remember the prepared.json files the last `fsr preprocess` / `import-flow` wrote (best effort:
    a home that cannot be written only loses the default of a bare `fsr train`)."""
    if not manifests:
        return
    try:
        doc = {"manifests": [str(Path(m).resolve()) for m in manifests]}
        atomic_write(user_cache_dir() / LAST_PREPARED, lambda tmp: tmp.write_text(json.dumps(doc, indent=1)))
    except (OSError, FsrError):  # CacheError is an FsrError
        pass


def default_datasets(cwd: Path) -> tuple[list[Path], str]:
    """What a bare `fsr train` trains on, and why: the current folder when it is a prepared dataset,
    else the datasets the last `fsr preprocess` (or import-flow) prepared.

    Raises:
        UsageError: neither exists.
    """
    for candidate in (cwd / MANIFEST, cwd / ".fsr" / MANIFEST):
        if candidate.is_file():
            return [cwd], "the current folder is a prepared dataset"
    record = user_cache_dir() / LAST_PREPARED
    try:
        paths = [Path(p) for p in json.loads(record.read_text())["manifests"]]
    except (OSError, ValueError, KeyError, TypeError):
        paths = []
    paths = [p for p in paths if p.is_file()]
    if not paths:
        raise UsageError(
            "no dataset given, the current folder is not a prepared dataset and no earlier "
            "`fsr preprocess` is on record; fsr train DIR [DIR ...] --protocol loso|lodo"
        )
    return paths, f"the datasets the last `fsr preprocess` prepared (recorded in {record})"
