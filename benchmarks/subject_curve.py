"""Learning curve over training subjects: LOSO UF1 when each fold trains on a fraction of the others.

How much would more subjects help, and is the dev set's figure still climbing? For each
fraction, every LOSO fold keeps a random subset of its training subjects (all their samples;
the draw depends on the fraction, the repeat and the fold only) and is trained with the preset
exactly as `fsr train` trains it (the same `train_chunk`); the pooled UF1 over all folds is
reported as mean +/- std over the repeats, with the 95 % bootstrap interval over subjects of the
full-data run for scale.

    python benchmarks/subject_curve.py                                   # svm-flow-std, 5 repeats (~1 min)
    python benchmarks/subject_curve.py --model facesleuth-r --repeats 1  # the network, seed 0 (~4 min)
    python benchmarks/subject_curve.py data/labels.csv --fractions 0.5,1 --json curve.json

LABELS is an `fsr import-flow` labels.csv (default: the dev subjects of the MEGC2019 composite
in ../shared/data/composite-dev/, read in place and imported into a scratch folder).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from fsr_cli.errors import FsrError
from fsr_cli.evaluation import score, uf1_interval
from fsr_cli.preprocess.importer import import_csv
from fsr_cli.train.runner import FoldData, TrainConfig, plan_run, train_chunk

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "composite-dev" / "labels.csv"


def subset_folds(folds: list, groups: np.ndarray, fraction: float, repeat: int) -> list:
    """Each fold with its training samples cut to those of round(fraction * n) of its subjects."""
    out = []
    for k, fold in enumerate(folds):
        subjects = np.unique(groups[fold.train_idx])
        n = max(1, round(fraction * len(subjects)))
        rng = np.random.default_rng([repeat, k, round(fraction * 1000)])
        keep = rng.choice(subjects, n, replace=False)
        out.append(replace(fold, train_idx=fold.train_idx[np.isin(groups[fold.train_idx], keep)]))
    return out


def pooled_uf1(plan, folds: list) -> tuple[float, np.ndarray]:
    """Train the folds as `fsr train` does (one chunk, in this process); pooled UF1 and predictions."""
    data = FoldData(plan.mcfg, plan.fit, plan.feats.flow, plan.feats.app, plan.feats.y)
    results = train_chunk(data, folds, progress=lambda done, total: None)
    pred = np.zeros(len(plan.feats.y), dtype=np.int64)
    for fold, res in zip(folds, results, strict=True):
        pred[fold.test_idx] = np.asarray(res.test_probs).argmax(1)
    return score(plan.feats.y, pred, labels=plan.feats.classes)["uf1"], pred


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("labels", nargs="?", type=Path, default=DEV)
    ap.add_argument("--model", default="svm-flow-std", help="preset name or YAML (default svm-flow-std)")
    ap.add_argument("--fractions", default="0.25,0.5,0.75,1")
    ap.add_argument("--repeats", type=int, default=5, help="subject draws per fraction below 1 (default 5)")
    ap.add_argument("--seed", type=int, default=0, help="the networks' training seed (default 0)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    a = ap.parse_args(argv)
    if not a.labels.is_file():
        print(f"skipped: {a.labels} not found (the licensed composite release is not on this machine)")
        return 0
    fractions = [float(f) for f in a.fractions.split(",")]
    if not fractions or any(not 0 < f <= 1 for f in fractions) or a.repeats < 1:
        ap.error("--fractions must lie in (0, 1] and --repeats be at least 1")
    with tempfile.TemporaryDirectory(prefix="fsr-curve-") as tmp:
        try:
            import_csv(a.labels, Path(tmp) / "imported")
            cfg = TrainConfig(datasets=(Path(tmp) / "imported",), protocol="loso", model=a.model, seed=a.seed)
            plan = plan_run(cfg)
        except FsrError as e:  # a bad labels.csv or preset: one line, exit 2
            ap.error(str(e))
    groups = plan.feats.groups
    n_train = len(np.unique(groups)) - 1
    rows = []
    for f in fractions:
        t = time.perf_counter()
        repeats = 1 if f == 1 else a.repeats
        scores, preds = [], []
        for r in range(repeats):
            u, pred = pooled_uf1(plan, subset_folds(plan.folds, groups, f, r))
            scores.append(u)
            preds.append(pred)
        row = {
            "fraction": f,
            "train_subjects": max(1, round(f * n_train)),
            "uf1_mean": round(float(np.mean(scores)), 4),
            "uf1_std": round(float(np.std(scores)), 4),
            "uf1_draws": [round(float(u), 4) for u in scores],
            "repeats": repeats,
            "seconds": round(time.perf_counter() - t, 1),
        }
        if f == 1:
            row["uf1_ci95"] = uf1_interval(plan.feats.y, preds[0], groups, len(plan.feats.classes))
        rows.append(row)
        print(
            f"fraction {f}: UF1 {row['uf1_mean']:.3f} +/- {row['uf1_std']:.3f}", file=sys.stderr, flush=True
        )
    print(f"LOSO, {plan.mcfg.name}, {len(groups)} samples, {n_train + 1} subjects, seed {a.seed}")
    print("| training subjects per fold | pooled UF1 (mean +/- std over draws) | draws | s |")
    print("|---|---|---|---|")
    for r in rows:
        ci = (
            f" (95 % interval over subjects {r['uf1_ci95'][0]:.3f}-{r['uf1_ci95'][1]:.3f})"
            if "uf1_ci95" in r
            else ""
        )
        print(
            f"| {r['train_subjects']} ({r['fraction']:.0%}) | {r['uf1_mean']:.3f} +/- {r['uf1_std']:.3f}{ci} "
            f"| {r['repeats']} | {r['seconds']} |"
        )
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
