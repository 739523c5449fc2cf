"""Full-LOSO training time on the composite's shape: fold-batched FaceSleuth-R vs a naive loop.

The data are toy flows with known motion (fsr_cli.model.toy): 442 samples, 68 subjects,
28x28 (u, v, strain), 3 classes, i.e. the shape of the MEGC2019 composite. Two figures:

1. `fit_folds` on all 68 LOSO folds at once with a preset's default epochs (facesleuth-r).
2. The naive baseline: one fold after another, a plain 3-layer CNN, batch 64, 60 epochs, Adam;
   timed on --baseline-folds folds and extrapolated to 68.

    python benchmarks/train_speed.py                 # both
    python benchmarks/train_speed.py --baseline-folds 0 --preset cva
    python benchmarks/train_speed.py --cli DIR --protocol loso   # fsr train's process layouts on DIR

3. With --cli DIR: `fsr train DIR` as whole processes, wall and CPU seconds (the process and its
   workers), in three layouts: one process with one torch thread pinned to one core (the
   one-core yardstick), one process with torch's two threads, and the default (one worker
   process of one thread per core); the runs' predictions are compared.

Timings on a shared machine are noisy; the script prints the torch thread count it used.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import f1_score
from torch import nn
from torch.nn import functional as F

from fsr_cli.model.config import load_preset
from fsr_cli.model.toy import toy_flows
from fsr_cli.train.engine import FitConfig, Fold, fit_folds
from fsr_cli.train.foldwise import fold_norm, normalise

N_SAMPLES, N_SUBJECTS, SIZE = 442, 68, 28
BASELINE_EPOCHS, BASELINE_BATCH = 60, 64


def loso(groups: np.ndarray) -> list[Fold]:
    return [Fold(str(g), np.where(groups != g)[0], np.where(groups == g)[0]) for g in np.unique(groups)]


def naive_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14x14
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),  # 2x2
        nn.Flatten(), nn.Linear(32 * 4, 3),
    )  # fmt: skip


def naive_fold(d: dict, fold: Fold, seed: int) -> np.ndarray:
    """The usual per-fold loop: its own model, optimiser and DataLoader-style shuffling."""
    torch.manual_seed(seed)
    norm = fold_norm(d["flow"], d["app"], fold.train_idx)
    x, _ = normalise(torch.from_numpy(d["flow"]), torch.from_numpy(d["app"]), norm)
    y = torch.from_numpy(d["y"])
    model, tr = naive_cnn(), torch.from_numpy(fold.train_idx)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(BASELINE_EPOCHS):
        for b in tr[torch.randperm(len(tr))].split(BASELINE_BATCH):
            opt.zero_grad()
            F.cross_entropy(model(x[b]), y[b]).backward()
            opt.step()
    with torch.no_grad():
        return model(x[torch.from_numpy(fold.test_idx)]).argmax(1).numpy()


def pooled_scores(d: dict, folds: list[Fold], preds: list[np.ndarray]) -> str:
    true = np.concatenate([d["y"][f.test_idx] for f in folds])
    pred = np.concatenate(preds)
    return f"UF1 {f1_score(true, pred, average='macro'):.3f}, acc {(true == pred).mean():.3f}"


def cli_layouts(data: str, protocol: str, repeats: int) -> None:
    """Wall and CPU seconds of `fsr train DATA` in each process layout (median of `repeats`)."""
    import os
    import resource
    import shutil
    import subprocess
    import sys
    import tempfile

    layouts = {
        "1 process, 1 thread, 1 core": (["--workers", "1"], {"OMP_NUM_THREADS": "1"}, [0]),
        "1 process, 2 threads": (["--workers", "1"], {}, None),
        "default (a 1-thread process per core)": ([], {}, None),
    }
    base = tempfile.mkdtemp(prefix="fsr-speed-")
    figures, preds = {}, {}
    for name, (args, env, cores) in layouts.items():
        walls, cpus = [], []
        for k in range(repeats):
            out = os.path.join(base, f"{len(figures)}-{k}")
            cmd = [
                sys.executable,
                "-m",
                "fsr_cli",
                "train",
                data,
                "--protocol",
                protocol,
                "--out",
                out,
                *args,
            ]
            if cores is not None:
                cmd = ["taskset", "-c", ",".join(map(str, cores)), *cmd]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, env={**os.environ, **env}, check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            preds[name] = open(os.path.join(out, "predictions.csv")).read()
        figures[name] = (float(np.median(walls)), float(np.median(cpus)))
        print(f"{name}: wall {figures[name][0]:.1f} s, cpu {figures[name][1]:.1f} s (median of {repeats})")
    one_wall, one_cpu = figures["1 process, 1 thread, 1 core"]
    for name, (wall, cpu) in figures.items():
        print(f"  {name}: {one_wall / wall:.2f}x the one-core speed for {cpu / one_cpu:.2f}x its CPU")
    same = len(set(preds.values())) == 1
    print(f"  predictions identical across layouts: {same}")
    shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="facesleuth-r")
    ap.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    ap.add_argument(
        "--baseline-folds", type=int, default=4, help="folds of the naive loop to time (0 = skip)"
    )
    ap.add_argument("--noise", type=float, default=1.5, help="toy flow noise (higher = harder)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli", metavar="DIR", help="time `fsr train DIR` in its process layouts instead")
    ap.add_argument("--protocol", default="loso", help="with --cli")
    ap.add_argument("--repeats", type=int, default=1, help="with --cli: runs per layout")
    args = ap.parse_args()
    if args.cli:
        cli_layouts(args.cli, args.protocol, args.repeats)
        return

    d = toy_flows(n_samples=N_SAMPLES, n_groups=N_SUBJECTS, size=SIZE, noise=args.noise, seed=args.seed)
    folds = loso(d["groups"])
    print(f"{len(d['y'])} samples, {len(folds)} LOSO folds, {SIZE}x{SIZE}; threads {torch.get_num_threads()}")

    cfg = load_preset(args.preset)
    fit = FitConfig.from_model(cfg, seed=args.seed, **({"epochs": args.epochs} if args.epochs else {}))
    t = time.perf_counter()
    res = fit_folds(cfg, fit, flow=d["flow"], app=d["app"], y=d["y"], folds=folds)
    fast = time.perf_counter() - t
    theta = np.array([r.history[-1]["theta_deg"] for r in res])
    scores = pooled_scores(d, folds, [r.test_probs.argmax(1) for r in res])
    what = f"fold-batched {cfg.name}, {fit.epochs} epochs, batch {fit.batch_size}"
    print(f"{what}: {fast:.0f} s = {fast / 60:.1f} min")
    print(f"  {scores}")
    if theta.size:
        print(f"  final theta per layer (mean over folds): {np.round(theta.mean(0), 1).tolist()} deg")

    if args.baseline_folds:
        sub = folds[: args.baseline_folds]
        t = time.perf_counter()
        preds = [naive_fold(d, f, args.seed) for f in sub]
        per_fold = (time.perf_counter() - t) / len(sub)
        est = per_fold * len(folds)
        what = f"naive loop, 3-layer CNN, {BASELINE_EPOCHS} epochs, batch {BASELINE_BATCH}"
        print(f"{what}: {per_fold:.1f} s per fold")
        print(f"  on {len(sub)} folds -> {est:.0f} s ({est / 60:.1f} min) for {len(folds)} folds")
        ours = pooled_scores(d, sub, [r.test_probs.argmax(1) for r in res[: len(sub)]])
        print(f"  on those folds: naive {pooled_scores(d, sub, preds)}; {cfg.name} {ours}")
        print(f"speed-up: {est / fast:.1f}x")


if __name__ == "__main__":
    main()
