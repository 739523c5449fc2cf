"""`fsr cache ls|info|clear`: inspect and clear the artifact cache of a dataset."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from fsr_cli.cli.common import CacheDirOpt, JsonOpt, emit_json, err_console
from fsr_cli.errors import UsageError

app = typer.Typer(
    help="Inspect and clear the artifact cache.\n\nExample: fsr cache info demo/casme2",
    no_args_is_help=True,
)

DirArg = Annotated[
    Path | None,
    typer.Argument(help="A dataset folder (its .fsr/ cache) or a cache root; default: the current folder."),
]
StageOpt = Annotated[str | None, typer.Option("--stage", help="Only this stage (e.g. flow).")]


def resolve_root(path: Path | None, cache_dir: Path | None) -> Path:
    """The cache root meant by a DIR argument and --cache-dir.

    --cache-dir wins; a folder holding prepared.json or stage folders is a root itself;
    otherwise a dataset folder's root is DIR/.fsr.
    """
    from fsr_cli.prepared import MANIFEST
    from fsr_cli.preprocess.batch import default_cache_root

    if cache_dir is not None:
        return cache_dir
    path = Path(".") if path is None else path
    if not path.is_dir():
        raise UsageError(f"{path}: no such folder (give a dataset folder or a cache root)")
    if (path / MANIFEST).is_file() or any(path.glob("*/??/*/meta.json")):
        return path
    return default_cache_root(path)


def _meta(entry) -> dict:
    try:
        return entry.meta
    except (OSError, ValueError):
        return {}


def _entry_record(entry) -> dict:
    meta = _meta(entry)
    return {
        "stage": entry.stage,
        "key": entry.key,
        "sample": meta.get("sample"),
        "version": meta.get("version"),
        "bytes": entry.size_bytes(),
        "time": meta.get("time"),
        "path": str(entry.path),
    }


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


@app.command("ls")
def ls(path: DirArg = None, cache_dir: CacheDirOpt = None, stage: StageOpt = None, json_out: JsonOpt = False):
    """List cache entries: stage, key, sample, size, creation time.

    Example: fsr cache ls data/casme2 --stage flow
    """
    from rich.table import Table

    from fsr_cli.cache import Cache

    root = resolve_root(path, cache_dir)
    records = [_entry_record(e) for e in Cache(root).entries(stage)]
    if json_out:
        emit_json({"root": str(root), "stage": stage, "entries": records})
        return
    table = Table(title=f"cache {root}")
    for col in ("stage", "key", "sample", "size", "created"):
        table.add_column(col)
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["time"])) if r["time"] else "?"
        table.add_row(r["stage"], r["key"][:12], r["sample"] or "-", _size(r["bytes"]), when)
    err_console.print(table)
    err_console.print(f"{len(records)} entries")


def _manifest_info(root: Path) -> dict | None:
    from fsr_cli.prepared import MANIFEST

    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return {"path": str(path), "error": str(exc)}
    samples = doc.get("samples", [])
    missing = sum(not (root / s.get("entry", "") / "meta.json").is_file() for s in samples)
    return {
        "path": str(path),
        "dataset": doc.get("dataset"),
        "version": doc.get("version"),
        "samples": len(samples),
        "missing_entries": missing,
        "scaled": doc.get("scaled", False),
        "source": doc.get("source"),
    }


@app.command("info")
def info(
    path: DirArg = None, cache_dir: CacheDirOpt = None, stage: StageOpt = None, json_out: JsonOpt = False
):
    """Summarise a cache: entries and bytes per stage, unfinished temporaries, prepared.json.

    Example: fsr cache info data/casme2 --json
    """
    from fsr_cli.cache import Cache

    root = resolve_root(path, cache_dir)
    cache = Cache(root)
    stages: dict[str, dict] = {}
    for e in cache.entries(stage):
        s = stages.setdefault(e.stage, {"entries": 0, "bytes": 0})
        s["entries"] += 1
        s["bytes"] += e.size_bytes()
    doc = {
        "root": str(root),
        "exists": root.is_dir(),
        "stages": stages,
        "entries": sum(s["entries"] for s in stages.values()),
        "bytes": sum(s["bytes"] for s in stages.values()),
        "temporaries": len(cache.temporaries()),
        "manifest": _manifest_info(root),
    }
    if json_out:
        emit_json(doc)
        return
    err_console.print(f"cache {root}" + ("" if doc["exists"] else " (does not exist)"))
    for name, s in sorted(stages.items()):
        err_console.print(f"  {name:<10} {s['entries']:>6} entries  {_size(s['bytes']):>10}")
    if doc["temporaries"]:
        err_console.print(
            f"  {doc['temporaries']} unfinished entries of a killed run (removed by `fsr cache clear`)"
        )
    m = doc["manifest"]
    if m and "error" in m:
        err_console.print(
            f"  prepared.json: [red]damaged[/red] ({m['error']}); run `fsr preprocess` or "
            "`fsr import-flow` again to rewrite it"
        )
    elif m:
        err_console.print(
            f"  prepared.json: {m['dataset']}, {m['samples']} samples, {m['missing_entries']} missing"
        )


@app.command("clear")
def clear(
    path: DirArg = None, cache_dir: CacheDirOpt = None, stage: StageOpt = None, json_out: JsonOpt = False
):
    """Remove cache entries (all, or one --stage) and unfinished temporaries.

    prepared.json goes too when the flow entries it points to are removed.

    Example: fsr cache clear data/casme2 --stage flow
    """
    from fsr_cli.cache import Cache
    from fsr_cli.prepared import FLOW_STAGE, MANIFEST

    root = resolve_root(path, cache_dir)
    cache, manifest = Cache(root), root / MANIFEST
    removed, dropped = 0, False
    if root.is_dir():
        cache.check_owned()
        with cache.writing():  # an import or preprocess of this root waits for the clear
            removed = cache.clear(stage)
            dropped = stage in (None, FLOW_STAGE) and manifest.is_file()
            if dropped:
                manifest.unlink()
    doc = {"root": str(root), "stage": stage, "removed": removed, "manifest_removed": dropped}
    if json_out:
        emit_json(doc)
    else:
        extra = " and prepared.json" if dropped else ""
        err_console.print(f"removed {removed} entries{extra} from {root}")
