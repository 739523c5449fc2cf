"""The figures of a run of several seeds: each seed's predictions, read and checked alike, and the
mean and std over seeds of the pooled and per-dataset figures (metrics.json "seeds")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.evaluation.metrics import metrics_from_predictions
from fsr_cli.train import rundir

# what mean/std are taken of, per seed: the pooled figures and each dataset's UF1
_FIGURES = ("uf1", "uar", "acc")


def seed_predictions(run: Path, config: dict) -> dict[int, dict]:
    """Each seed's predictions.csv columns, checked to list the same samples in the same order."""
    out: dict[int, dict] = {}
    for s in config["seeds"]:
        out[s] = rundir.read_predictions(rundir.seed_dir(run, s) / rundir.PREDICTIONS)
    keys = {
        s: [tuple(r) for r in zip(p["dataset"], p["subject"], p["clip"], strict=True)] for s, p in out.items()
    }
    ref = keys[config["seeds"][0]]
    for s, k in keys.items():
        if k != ref:
            raise UsageError(
                f"{rundir.seed_dir(run, s)}: its predictions list other samples than seed "
                f"{config['seeds'][0]}'s; "
                "the run folder is damaged, train it again"
            )
    return out


def seed_summary(per_seed: dict[int, dict], config: dict) -> dict:
    """{"seeds": [...], "per_seed": {s: figures}, "mean": figures, "std": figures}.

    figures: pooled UF1 / UAR / Acc, each dataset's UF1, and "dataset_mean_uf1" (the mean of the
    datasets' UF1, the LODO summary).
    """
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
