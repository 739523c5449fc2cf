"""CPU against GPU: the same seed's LOSO on both devices, agreement and speed (run where a GPU exists).

Trains the default preset fold-batched on composite-shape toy flows (fsr_cli.model.toy; 442
samples, 68 subjects unless told otherwise) once with device="cpu" and once with the GPU, with
the same seed: the random draws (minibatches, augmentation, initial weights) are made on the
CPU in both runs, so only the kernels differ. Prints each device's wall time, the largest
probability difference, the share of samples with the same predicted class and each run's
pooled UF1; then loads one fold's state on the CPU and on the GPU (what a checkpoint saved on
one and loaded on the other does) and compares their predictions.

Exits 1 with a message where torch sees no GPU (`--device cpu` is a dry run of the script).

    python benchmarks/gpu_check.py [--device cuda:0] [--epochs N] [--samples 442 --subjects 68]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--samples", type=int, default=442)
    parser.add_argument("--subjects", type=int, default=68)
    args = parser.parse_args()

    import torch

    from fsr_cli.devices import describe, resolve_device
    from fsr_cli.errors import UsageError
    from fsr_cli.evaluation import score
    from fsr_cli.model.config import load_preset
    from fsr_cli.model.network import build_model
    from fsr_cli.model.toy import toy_flows
    from fsr_cli.train.engine import FitConfig, Fold, fit_folds, predict_proba

    try:
        gpu = resolve_device(args.device)
    except UsageError as exc:
        sys.exit(f"gpu_check: {exc}")
    if gpu == "cpu":
        print("dry run: --device cpu compares the CPU with itself (checks the script, not a GPU)")
    mcfg = load_preset("facesleuth-r")
    fit = FitConfig.from_model(mcfg, seed=0, **({"epochs": args.epochs} if args.epochs else {}))
    d = toy_flows(
        n_samples=args.samples, n_groups=args.subjects, size=mcfg.flow_size, app_size=mcfg.app_size, seed=0
    )
    idx = np.arange(len(d["y"]))
    folds = [Fold(f"s{g:02d}", idx[d["groups"] != g], idx[d["groups"] == g]) for g in np.unique(d["groups"])]
    runs = {}
    for name, device in (("cpu", "cpu"), ("gpu", gpu)):
        t0 = time.perf_counter()
        results = fit_folds(mcfg, fit, flow=d["flow"], app=d["app"], y=d["y"], folds=folds, device=device)
        if device != "cpu":
            torch.cuda.synchronize()
        runs[name] = (time.perf_counter() - t0, results)
    (cpu_s, cpu_r), (gpu_s, gpu_r) = runs["cpu"], runs["gpu"]
    p_cpu = np.concatenate([r.test_probs for r in cpu_r])
    p_gpu = np.concatenate([r.test_probs for r in gpu_r])
    truth = np.concatenate([d["y"][f.test_idx] for f in folds])

    def uf1(p):
        return score(truth, p.argmax(1), labels=["a", "b", "c"])["uf1"]

    print(f"{len(folds)} folds, {len(truth)} samples, {fit.epochs} epochs, seed 0")
    print(f"cpu: {cpu_s:.1f} s   {describe(gpu)}: {gpu_s:.1f} s   speed-up {cpu_s / gpu_s:.2f}x")
    print(
        f"max |p_cpu - p_gpu| {np.abs(p_cpu - p_gpu).max():.2e}; same class for "
        f"{(p_cpu.argmax(1) == p_gpu.argmax(1)).mean():.1%} of samples; "
        f"UF1 cpu {uf1(p_cpu):.4f}, gpu {uf1(p_gpu):.4f}"
    )
    model = build_model(mcfg)
    model.load_state_dict(cpu_r[0].state_dict)  # a checkpoint's weights, stored on the CPU
    test = folds[0].test_idx
    a = predict_proba([(model, cpu_r[0].norm)], d["flow"][test], d["app"][test], device="cpu")
    b = predict_proba([(model, cpu_r[0].norm)], d["flow"][test], d["app"][test], device=gpu)
    print(f"one checkpoint on cpu and {gpu}: max |dp| {np.abs(a - b).max():.2e}")


if __name__ == "__main__":
    main()
