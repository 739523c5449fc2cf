"""Several seeds in one run directory (`fsr train --seeds 0,1,2`).

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

from dataclasses import replace
from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.train import rundir

SEEDS_DIR = "seeds"
# what mean/std are taken of, per seed: the pooled figures and each dataset's UF1
_FIGURES = ("uf1", "uar", "acc")


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


def seed_dir(run: Path, seed: int) -> Path:
    return Path(run) / SEEDS_DIR / f"seed-{seed}"


def is_multi_seed(config: dict) -> bool:
    return bool(config.get("seeds"))


def run_seeds(plan, *, run: Path, argv, resume: bool, reporter, executor=None) -> dict:
    """Train every seed of the plan into RUN/seeds/seed-<s>, then write the ensemble's outputs."""
    from fsr_cli.train.runner import run_config_doc, run_training

    cfg = plan.cfg
    if not resume:
        doc = run_config_doc(
            cfg, mcfg=plan.mcfg, fit=plan.fit, feats=plan.feats, folds=plan.folds, sets=plan.sets
        )
        rundir.write_yaml(run / rundir.CONFIG, {**doc, "seed": None, "seeds": list(cfg.seeds)})
    for s in cfg.seeds:
        sub = seed_dir(run, s)
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
    from fsr_cli.train import report, theta
    from fsr_cli.train.evaluation import metrics_from_predictions

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


def seed_predictions(run: Path, config: dict) -> dict[int, dict]:
    """Each seed's predictions.csv columns, checked to list the same samples in the same order."""
    out: dict[int, dict] = {}
    for s in config["seeds"]:
        out[s] = rundir.read_predictions(seed_dir(run, s) / rundir.PREDICTIONS)
    keys = {
        s: [tuple(r) for r in zip(p["dataset"], p["subject"], p["clip"], strict=True)] for s, p in out.items()
    }
    ref = keys[config["seeds"][0]]
    for s, k in keys.items():
        if k != ref:
            raise UsageError(
                f"{seed_dir(run, s)}: its predictions list other samples than seed {config['seeds'][0]}'s; "
                "the run folder is damaged, train it again"
            )
    return out


def seed_summary(per_seed: dict[int, dict], config: dict) -> dict:
    """{"seeds": [...], "per_seed": {s: figures}, "mean": figures, "std": figures}.

    figures: pooled UF1 / UAR / Acc, each dataset's UF1, and "dataset_mean_uf1" (the mean of the
    datasets' UF1, the LODO summary).
    """
    from fsr_cli.train.evaluation import metrics_from_predictions

    table = {}
    for s, preds in per_seed.items():
        m = metrics_from_predictions(preds, config=config, intervals=False)  # figures only
        fig = {k: m[k] for k in _FIGURES}
        fig.update({f"uf1_{d}": v["uf1"] for d, v in m["per_dataset"].items()})
        ds = [v["uf1"] for v in m["per_dataset"].values() if v["uf1"] is not None]
        fig["dataset_mean_uf1"] = round(float(np.mean(ds)), 4) if ds else None
        table[str(s)] = fig
    names = list(next(iter(table.values())))

    def agg(fn):
        out = {}
        for k in names:
            vals = [t[k] for t in table.values() if t[k] is not None]
            out[k] = round(float(fn(vals)), 4) if vals else None
        return out

    return {"seeds": list(config["seeds"]), "per_seed": table, "mean": agg(np.mean), "std": agg(np.std)}


def merged_theta(run: Path, config: dict) -> dict:
    """theta.json over seeds: every seed's folds, keyed 'seed-<s>/<fold>'."""
    import json

    docs = {s: json.loads((seed_dir(run, s) / rundir.THETA).read_text()) for s in config["seeds"]}
    first = docs[config["seeds"][0]]
    doc = {k: v for k, v in first.items() if k not in ("folds", "final")}
    doc["folds"] = {f"seed-{s}/{f}": v for s, d in docs.items() for f, v in d["folds"].items()}
    doc["seeds"] = list(config["seeds"])
    return doc
