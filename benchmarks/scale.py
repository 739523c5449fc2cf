"""Local executor against Ray on this machine: composite-shape LOSO and a preprocess of synthesised clips.

1. LOSO: 442 samples in 68 subjects (the MEGC2019 composite's shape; toy flows of 28x28 and
   32x32 faces from fsr_cli.model.toy), the default preset, `workers` chunks of folds trained
   through `ProcessExecutor(workers)` and through `RayExecutor` on a Ray instance started for
   the run. Each timing runs from creating the executor (process pool start / ray.init) to its
   close: start-up included. The two runs' predictions are compared (same seed, same folds).
2. Preprocess: SUBJECTS x CLIPS synthesised CASME II-layout clips (default 16 x 16 = 256),
   `prepare_dataset(workers=N)` against `prepare_dataset(executor=Ray)`, each on a fresh cache,
   Ray's start-up included (its shutdown after the last clip is printed apart, and with it).
3. Per-task overhead: the start of a local Ray instance, and the round trip of an empty task
   on a warm one (mean over 200).

Targets: Ray / local <= 1.15 for LOSO and <= 1.25 for preprocess. From the measured per-fold
cost the script prints what a 16-node cluster would take for a five-preset, three-seed
ablation (68 LOSO folds + 3 LODO folds per preset and seed; a LODO fold trains on about 2/3 of
the samples where a LOSO fold trains on all but one subject's, so it is costed as 0.68 of a LOSO
fold), without measuring one.

    python benchmarks/scale.py [--epochs N] [--workers 2] [--subjects 16 --clips 16] [--skip-preprocess]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def loso_folds(groups: np.ndarray):
    from fsr_cli.train.engine import Fold

    idx = np.arange(len(groups))
    return [Fold(f"s{g:02d}", idx[groups != g], idx[groups == g]) for g in np.unique(groups)]


def time_loso(make, data, folds, workers: int) -> tuple[float, dict]:
    from fsr_cli.train.executor import JobFailed, chunk, close
    from fsr_cli.train.runner import train_chunk

    t0 = time.perf_counter()
    ex = make()
    try:
        chunks = chunk(folds, ex.workers if workers > 1 else 1)
        probs = {}
        for k, results in ex.map(train_chunk, chunks, shared=data):
            if isinstance(results, JobFailed):
                raise SystemExit(f"chunk {k} failed: {results.reason}")
            probs.update({r.name: r.test_probs for r in results})
    finally:
        close(ex)
    return time.perf_counter() - t0, probs


def _noop(shared, job, progress):
    return job


def ray_overheads() -> tuple[float, float]:
    """(seconds to start a local Ray instance, seconds per empty task round trip when warm)."""
    from fsr_cli.train.executor import RayExecutor

    t0 = time.perf_counter()
    ex = RayExecutor()
    start = time.perf_counter() - t0
    list(ex.map(_noop, list(range(20))))  # workers up
    t0 = time.perf_counter()
    list(ex.map(_noop, list(range(200))))
    per_task = (time.perf_counter() - t0) / 200
    ex.close()
    return start, per_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="epoch budget (default: the preset's)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--subjects", type=int, default=16)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--skip-loso", action="store_true")
    parser.add_argument("--skip-preprocess", action="store_true")
    args = parser.parse_args()

    from fsr_cli.model.config import load_preset
    from fsr_cli.model.toy import toy_flows
    from fsr_cli.train.engine import FitConfig
    from fsr_cli.train.executor import ProcessExecutor, RayExecutor
    from fsr_cli.train.runner import FoldData

    cores = len(os.sched_getaffinity(0))
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.2f}")
    start, per_task = ray_overheads()
    print(f"Ray: local instance start {start:.2f} s; empty task round trip {per_task * 1e3:.2f} ms (warm)")

    if not args.skip_loso:
        mcfg = load_preset("facesleuth-r")
        fit = FitConfig.from_model(mcfg, seed=0, **({"epochs": args.epochs} if args.epochs else {}))
        d = toy_flows(n_samples=442, n_groups=68, size=mcfg.flow_size, app_size=mcfg.app_size, seed=0)
        data = FoldData(mcfg, fit, d["flow"], d["app"], d["y"], "cpu")
        folds = loso_folds(d["groups"])
        local_s, local_p = time_loso(lambda: ProcessExecutor(args.workers), data, folds, args.workers)
        ray_s, ray_p = time_loso(RayExecutor, data, folds, args.workers)
        diff = max(float(np.abs(local_p[k] - ray_p[k]).max()) for k in local_p)
        same = all((local_p[k].argmax(1) == ray_p[k].argmax(1)).all() for k in local_p)
        print(
            f"LOSO 442 samples / {len(folds)} folds, {fit.epochs} epochs, {args.workers} chunks: "
            f"local {local_s:.1f} s, ray {ray_s:.1f} s, ray/local {ray_s / local_s:.3f} (target <= 1.15); "
            f"max |p_local - p_ray| {diff:.1e}, same classes: {same}"
        )
        per_fold = local_s * args.workers / len(folds)  # core-seconds per LOSO fold
        fold_trainings = 5 * 3 * (len(folds) + 3)
        core_s = 5 * 3 * (len(folds) + 3 * 0.68) * per_fold
        for nodes, node_cores in ((16, cores), (16, 16)):
            slots = nodes * node_cores
            wall = core_s / slots + fold_trainings * per_task + start
            print(
                f"on paper, {nodes} nodes x {node_cores} cores: five presets x three seeds x (68 LOSO + "
                f"3 LODO folds) = {fold_trainings} fold trainings, {core_s / 3600:.1f} core-hours -> "
                f"~{wall / 60:.1f} min (measured {per_fold:.1f} core-s per LOSO fold)"
            )

    if not args.skip_preprocess:
        from fsr_cli.preprocess import prepare_dataset
        from fsr_cli.preprocess.batch import make_clip_executor
        from fsr_cli.synth import write_dataset
        from fsr_cli.train.executor import close

        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            root = write_dataset(
                tmp / "casme2", layout="casme2", subjects=args.subjects, clips=args.clips, seed=0
            )
            n = args.subjects * args.clips
            local = prepare_dataset(root, cache_root=tmp / "local", workers=args.workers)
            t0 = time.perf_counter()
            pool = make_clip_executor(args.workers, "ray")
            try:
                ray = prepare_dataset(root, cache_root=tmp / "ray", executor=pool)
            finally:
                ray_s = time.perf_counter() - t0
                t1 = time.perf_counter()
                close(pool)
                shutdown_s = time.perf_counter() - t1
            assert local.computed == n and ray.computed == n, (local.summary(), ray.summary())
            same = [o.prepared.entry for o in local.outcomes] == [o.prepared.entry for o in ray.outcomes]
        print(
            f"preprocess {n} clips: local --workers {args.workers} {local.seconds:.1f} s, ray {ray_s:.1f} s "
            f"(start-up included), ray/local {ray_s / local.seconds:.3f} (target <= 1.25); "
            f"then ray.shutdown {shutdown_s:.1f} s (with it: {(ray_s + shutdown_s) / local.seconds:.3f}); "
            f"same entries: {same}"
        )


if __name__ == "__main__":
    main()
