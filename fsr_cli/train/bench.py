"""`fsr bench`: every (model, protocol) trained as an ordinary run directory under OUT, resumable,
then the leaderboard (evaluation/leaderboard.py).

    OUT/bench.json                 what the bench is over: datasets, labels, seeds, models, protocols
    OUT/<model>/<protocol>/        one run of `fsr train` (with --seeds: seeds/seed-<s>/ inside);
                                   <model>: folder_name
    OUT/<model>/<protocol>/leak.json   the same predictions with each fold's epoch picked on its
                                   test subjects (--select test-oracle): the leak, measured
    OUT/timings.json               each run's training wall time in seconds, "<model>/<protocol>"
    OUT/leaderboard.{md,csv,tex,json}, OUT/forest.png

The runs are honest (the last epoch of each preset's budget); every epoch's test probabilities are
kept, so the test-oracle figure comes from the same training, not a second one. A finished run
(metrics.json and leak.json written) is skipped; a killed one resumes with `fsr train --resume`'s
logic, fold by fold.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.train import rundir
from fsr_cli.train.protocols import PROTOCOLS
from fsr_cli.train.runner import Plan, Reporter, TrainConfig, plan_run
from fsr_cli.train.seeds import train_run

BENCH = "bench.json"
LEAK = "leak.json"
TIMINGS = "timings.json"


@dataclass(frozen=True)
class BenchConfig:
    datasets: tuple[Path, ...]
    out: Path
    models: tuple[str, ...]
    protocols: tuple[str, ...] = ("loso", "lodo")
    seeds: tuple[int, ...] = (0, 1, 2)
    labels: str = "composite"
    workers: int = 1
    executor: str = "local"
    ray_address: str | None = None
    device: str = "auto"
    cache_dir: Path | None = None


def parse_list(text: str, what: str) -> tuple[str, ...]:
    """'a,b' -> ('a', 'b'); an empty list or a repeated name is a usage error."""
    items = tuple(t.strip() for t in str(text).split(",") if t.strip())
    if not items:
        raise UsageError(f"--{what} is empty; give a comma-separated list")
    repeated = sorted({t for t in items if items.count(t) > 1})
    if repeated:
        raise UsageError(f"--{what} repeats {', '.join(repeated)}; give each once")
    return items


def folder_name(model: str, name: str) -> str:
    """OUT/<folder>: a shipped preset's name, a preset file's stem, a plugin's class name."""
    if Path(model).suffix in (".yaml", ".yml"):
        return rundir._safe(Path(model).stem)
    return rundir._safe(name if ":" in model else model)


def run_dir(out: Path, model: str, protocol: str) -> Path:
    return Path(out) / model / protocol


def _train_config(cfg: BenchConfig, model: str, protocol: str) -> TrainConfig:
    one = len(cfg.seeds) == 1
    return TrainConfig(
        datasets=cfg.datasets,
        protocol=protocol,
        model=model,
        labels=cfg.labels,
        seed=cfg.seeds[0] if one else 0,
        seeds=() if one else cfg.seeds,
        workers=cfg.workers,
        executor=cfg.executor,
        ray_address=cfg.ray_address,
        device=cfg.device,
        cache_dir=cfg.cache_dir,
        record_epochs=True,
    )


def plan_bench(cfg: BenchConfig) -> list[tuple[str, str, Plan]]:
    """Every (model, protocol) planned and checked, and OUT checked, before anything is trained.

    Raises:
        UsageError: an unknown protocol, a model or protocol the data cannot take, an OUT that
            holds a bench of other datasets, labels or seeds.
    """
    for p in cfg.protocols:
        if p not in PROTOCOLS:
            raise UsageError(f"--protocols: unknown {p}; known: {', '.join(PROTOCOLS)}")
    plans = []
    for m in cfg.models:
        for p in cfg.protocols:
            plan = plan_run(_train_config(cfg, m, p))
            plans.append((folder_name(m, plan.mcfg.name), p, plan))
    names = [name for name, p, _ in plans if p == cfg.protocols[0]]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"--models: two models are named {', '.join(twice)}; give each a distinct name")
    _check_out(cfg)
    return plans


def _record(cfg: BenchConfig) -> dict:
    return {
        "format": "fsr-bench",
        "version": 1,
        "datasets": [str(Path(d).resolve()) for d in cfg.datasets],
        "labels": cfg.labels,
        "seeds": list(cfg.seeds),
    }


def _check_out(cfg: BenchConfig) -> None:
    path = Path(cfg.out) / BENCH
    if path.is_file():
        try:
            theirs = json.loads(path.read_text())
        except ValueError:
            theirs = {}
        mine = _record(cfg)
        differ = [k for k in ("datasets", "labels", "seeds") if theirs.get(k) != mine[k]]
        if differ:
            raise UsageError(
                f"--out {cfg.out} holds a bench of other {', '.join(differ)} ({path}); give another --out"
            )
    elif Path(cfg.out).is_dir() and any(Path(cfg.out).iterdir()):
        raise UsageError(f"--out {cfg.out} is not empty and not a bench; give a new or empty folder")


def is_done(run: Path) -> bool:
    return (run / rundir.METRICS).is_file() and (run / LEAK).is_file()


def run_bench(cfg: BenchConfig, plans, *, reporter: Reporter | None = None, log=print) -> list[dict]:
    """Train what is not finished, write each run's leak.json; returns one entry per run with its
    training wall time ("seconds", kept in OUT/timings.json for later invocations) and "skipped"."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    rundir.write_json(
        out / BENCH, _record(cfg) | {"models": list(cfg.models), "protocols": list(cfg.protocols)}
    )
    timings = read_timings(out)
    entries = []
    for k, (model, protocol, plan) in enumerate(plans, 1):
        run = run_dir(out, model, protocol)
        key = f"{model}/{protocol}"
        entry = {"model": model, "protocol": protocol, "run": str(run)}
        if is_done(run):
            log(f"[{k}/{len(plans)}] {model} {protocol}: finished earlier, skipped")
            entries.append(entry | {"seconds": timings.get(key), "skipped": True})
            continue
        log(f"[{k}/{len(plans)}] {model} {protocol}")
        resume = (run / rundir.CONFIG).is_file()
        if not resume:
            run.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if not (run / rundir.METRICS).is_file():
            train_run(plan, run=run, argv=["fsr", "bench"], resume=resume, reporter=reporter)
        rundir.write_json(run / LEAK, leak(run, plan))
        timings[key] = round(time.perf_counter() - t0, 1)  # a resumed run: its resumed part
        rundir.write_json(out / TIMINGS, timings)
        entries.append(entry | {"seconds": timings[key], "skipped": False})
    return entries


def read_timings(out: Path) -> dict[str, float]:
    try:
        data = json.loads((Path(out) / TIMINGS).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}


def time_summary(entries: list[dict]) -> str:
    """One line: what this invocation trained and how long, and the whole bench's training time."""
    now = [e for e in entries if not e.get("skipped")]
    this = sum(e["seconds"] for e in now)
    known = [e["seconds"] for e in entries if e.get("seconds") is not None]
    line = f"{len(now)} of {len(entries)} runs trained now in {this / 60:.1f} min"
    if len(known) == len(entries):
        line += f"; the whole bench's training: {sum(known) / 60:.1f} min"
    return line


def leak(run: Path, plan: Plan) -> dict:
    """The run's figures with each fold's epoch chosen on its own test labels (test-oracle), per
    seed, from the per-epoch probabilities the honest run kept; a model fitted once has none."""
    from fsr_cli.evaluation import metrics_from_predictions
    from fsr_cli.train.outputs import prediction_rows

    if not plan.mcfg.trains_by_epoch:
        return {"uf1": None, "uar": None, "per_seed": {}, "note": "fitted once: no epoch to pick"}
    seeds = plan.cfg.seeds or (plan.cfg.seed,)
    per_seed = {}
    for s in seeds:
        one = rundir.seed_dir(run, s) if plan.cfg.seeds else run
        rows = prediction_rows(one, feats=plan.feats, folds=plan.folds, select="test-oracle")
        cols = {
            k: np.array([r[k] for r in rows]) for k in ("dataset", "subject", "clip", "fold", "true", "pred")
        }
        config = rundir.read_config(one)
        m = metrics_from_predictions(cols, config=config, intervals=False)
        per_seed[str(s)] = {"uf1": m["uf1"], "uar": m["uar"]}
    uf1 = [v["uf1"] for v in per_seed.values()]
    uar = [v["uar"] for v in per_seed.values()]
    return {
        "uf1": round(float(np.mean(uf1)), 4),
        "uf1_std": round(float(np.std(uf1)), 4),
        "uar": round(float(np.mean(uar)), 4),
        "per_seed": per_seed,
        "selection": "test-oracle (LEAKAGE: best epoch on each fold's test labels)",
    }
