"""`fsr train --resume RUN`: rebuild a run's configuration from its config.yaml.

Options given again with --resume must agree with the run (a different protocol or seed would
mix two experiments in one folder); `--final` may be added, and where the folds run
(`--workers`, `--executor`, `--ray-address`, `--device`) may change: a killed run started locally
can be finished on a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsr_cli.errors import UsageError
from fsr_cli.prepared import find_manifest
from fsr_cli.train import rundir
from fsr_cli.train.runner import TrainConfig


def config_from_run(run: Path, given: dict[str, Any]) -> TrainConfig:
    """The TrainConfig of an existing run (for --resume); options given again must match it.

    Raises:
        UsageError: RUN is not a run folder, or a given option differs from RUN/config.yaml.
    """
    doc = rundir.read_config(run)
    stored = {
        "datasets": tuple(Path(d["prepared"]) for d in doc["datasets"]),
        "protocol": doc["protocol"],
        "model": doc["model_source"],
        "labels": doc["labels"],
        "epochs": doc["fit"]["epochs"],
        "seed": doc["seed"] if doc.get("seed") is not None else 0,
        "seeds": tuple(doc.get("seeds") or ()),
        "select": doc["selection"]["mode"],
        "cache_dir": Path(doc["cache_dir"]) if doc.get("cache_dir") else None,
        "final": doc.get("final", False),
    }
    for key, value in given.items():
        if value is None or value == () or key not in stored or key == "final":
            continue
        if key == "datasets":
            cache_dir = given.get("cache_dir") or stored["cache_dir"]
            value = tuple(find_manifest(Path(p), cache_dir).resolve() for p in value)
        if value != stored[key]:
            shown = [str(p) for p in value] if key == "datasets" else value
            was = [str(p) for p in stored[key]] if key == "datasets" else stored[key]
            raise UsageError(
                f"--resume {run}: {key} {shown!r} differs from the run's {was!r}; "
                "leave it out to resume, or start a new run with --out"
            )
    final = bool(given.get("final")) or stored["final"]
    where = {
        "workers": given.get("workers") or 1,
        "executor": given.get("executor") or "local",
        "ray_address": given.get("ray_address"),
        "device": given.get("device") or doc.get("device") or "auto",
    }
    return TrainConfig(
        **{**stored, "final": final}, **where, model_overrides=dict(doc.get("model_overrides") or {})
    )
