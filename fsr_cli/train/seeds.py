"""Training a planned run (train_run): one seed, or several in one run directory (`--seeds 0,1,2`).

    RUN/config.yaml                 the run's configuration, with "seeds": [0, 1, 2]
    RUN/seeds/seed-<s>/...          one complete single-seed run per seed (folds, predictions, ...)
    RUN/predictions.csv             the seed ensemble: each sample's probabilities averaged over seeds
    RUN/metrics.json                the ensemble's metrics, plus "seeds": each seed's figures and
                                    their mean and std (population std over the seeds)
    RUN/theta.json                  every (seed, fold)'s angles, keyed "seed-<s>/<fold>"
    RUN/report.md, confusion.png    as for one seed

Each seed trains and resumes like a run of its own; the pooled outputs at the top are
recomputed from the seeds' predictions.csv files, so `fsr evaluate RUN` reproduces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.train import rundir
from fsr_cli.train.executor import close
from fsr_cli.train.runner import Plan, Reporter, open_executor, run_config_doc, run_training


def parse_seeds(text: str) -> tuple[int, ...]:
    """'0,1,2' -> (0, 1, 2); empty lists, non-integers and repeats are usage errors."""
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise UsageError("--seeds is empty; give a comma-separated list such as --seeds 0,1,2")
    try:
        seeds = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(
            f"--seeds {text!r}: give whole numbers separated by commas, e.g. --seeds 0,1,2"
        ) from None
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise UsageError(f"--seeds {text!r} repeats {repeated}; give each seed once")
    if any(s < 0 for s in seeds):
        raise UsageError(f"--seeds {text!r}: seeds must be >= 0")
    return seeds


def train_run(
    plan: Plan, *, run: Path | Callable[[], Path], argv=None, resume: bool = False, reporter=None
) -> dict:
    """Train a planned run: one seed (run_training) or several (seeds.run_seeds); returns its metrics.

    One executor serves every seed (a local Ray instance is started once per run). `run` may be a
    function that makes the run folder: it is called once the executor is up, so that an executor
    that cannot start (a closed Ray address, no GPU) leaves no empty folder behind."""
    executor = open_executor(plan.cfg)
    try:
        run = run() if callable(run) else run
        if plan.cfg.seeds:
            return run_seeds(
                plan, run=run, argv=argv, resume=resume, reporter=reporter or Reporter(), executor=executor
            )
        return run_training(plan, run=run, argv=argv, resume=resume, reporter=reporter, executor=executor)
    finally:
        close(executor)


def run_seeds(plan, *, run: Path, argv, resume: bool, reporter, executor=None) -> dict:
    """Train every seed of the plan into RUN/seeds/seed-<s>, then write the ensemble's outputs."""
    cfg = plan.cfg
    if not resume:
        doc = run_config_doc(
            cfg, mcfg=plan.mcfg, fit=plan.fit, feats=plan.feats, folds=plan.folds, sets=plan.sets
        )
        rundir.write_yaml(run / rundir.CONFIG, {**doc, "seed": None, "seeds": list(cfg.seeds)})
    for s in cfg.seeds:
        sub = rundir.seed_dir(run, s)
        one = replace(plan, cfg=replace(cfg, seed=s, seeds=()), fit=replace(plan.fit, seed=s))
        if reporter.log is not None:
            reporter.log(f"seed {s} ({cfg.seeds.index(s) + 1} of {len(cfg.seeds)})")
        run_training(
            one,
            run=sub,
            argv=argv,
            resume=(sub / rundir.CONFIG).is_file(),
            reporter=reporter,
            executor=executor,
        )
    return write_ensemble_outputs(run)


def write_ensemble_outputs(run: Path) -> dict:
    """predictions.csv (seed-averaged), metrics.json, theta.json, confusion.png, report.md at RUN."""
    from fsr_cli.evaluation import metrics_from_predictions, report
    from fsr_cli.evaluation.seeds import seed_predictions, seed_summary
    from fsr_cli.train import theta

    config = rundir.read_config(run)
    per_seed = seed_predictions(run, config)
    first = per_seed[config["seeds"][0]]
    probs = np.mean([p["probs"] for p in per_seed.values()], axis=0)
    classes = list(config["classes"])
    rows = [
        {
            **{c: first[c][i] for c in rundir.META_COLUMNS if c != "pred"},
            "epoch": "-" if len({p["epoch"][i] for p in per_seed.values()}) > 1 else first["epoch"][i],
            "pred": classes[int(np.argmax(probs[i]))],
            "probs": probs[i].tolist(),
        }
        for i in range(len(probs))
    ]
    rundir.write_predictions(run / rundir.PREDICTIONS, rows, classes)
    metrics = metrics_from_predictions(rundir.read_predictions(run / rundir.PREDICTIONS), config=config)
    metrics["seeds"] = seed_summary(per_seed, config)
    rundir.write_json(run / rundir.METRICS, metrics)
    tdoc = merged_theta(run, config)
    rundir.write_json(run / rundir.THETA, tdoc)
    report.write_views(run, metrics, config=config, theta=theta.summarise(tdoc, run=str(run)))
    return metrics


def merged_theta(run: Path, config: dict) -> dict:
    """theta.json over seeds: every seed's folds, keyed 'seed-<s>/<fold>'."""
    import json

    docs = {s: json.loads((rundir.seed_dir(run, s) / rundir.THETA).read_text()) for s in config["seeds"]}
    first = docs[config["seeds"][0]]
    doc = {k: v for k, v in first.items() if k not in ("folds", "final")}
    doc["folds"] = {f"seed-{s}/{f}": v for s, d in docs.items() for f, v in d["folds"].items()}
    doc["seeds"] = list(config["seeds"])
    return doc
