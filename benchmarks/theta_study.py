"""Does the SOA angle matter on a dataset, and where does the learned angle go?

For each dataset (synthesised with `fsr synth --angle A` and preprocessed, or prepared folders
given with --data), LOSO over its subjects with the same folds and seed:

1. learned: the facesleuth-r preset as it is (each angle starts at random, from the fold's seed):
   every layer's final angle, axial mean +- std over the folds (angles are orientations, period
   180), the share of folds within 90 +- 10 degrees, and UF1;
2. fixed sweep: the same preset with every angle held at 0, 45, 90 and 135 degrees (theta's
   learning rate set to 0): pooled UF1 and the mean final training loss at each angle. A flat
   sweep means the data give the angle nothing to learn from, so a learned angle then only
   reflects its start;
3. no-orientation: the preset without SOA, for scale.

    python benchmarks/theta_study.py                         # synth --angle 0 and 45
    python benchmarks/theta_study.py --flow-noise 8          # the same with noisy training flows
    python benchmarks/theta_study.py --data data/casme2 --epochs 30

`--flow-noise S` trains every model with Gaussian noise of std S on the normalised flow (the
presets' flow_noise), which keeps the training loss off its floor on clean data. Synthesis and
preprocessing take about a minute per dataset at the defaults (24 subjects x 10 clips); each
training run about 35 s on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

FIXED_ANGLES = (0.0, 45.0, 90.0, 135.0)


def synth_prepared(root: Path, *, angle: float, subjects: int, clips: int, seed: int) -> Path:
    """A synthesised CASME II-layout dataset, preprocessed; returns its folder."""
    from fsr_cli.preprocess import prepare_dataset
    from fsr_cli.synth import write_dataset

    out = root / f"casme2-angle{angle:g}"
    folder = write_dataset(out, layout="casme2", subjects=subjects, clips=clips, seed=seed, angle=angle)
    report = prepare_dataset(folder, workers=2)
    if report.failed:
        raise SystemExit(f"preprocessing failed on {len(report.failed)} clips of {folder}")
    return folder


def loso_run(cfg, features, *, seed: int, epochs: int | None) -> dict:
    """Pooled UF1, mean final training loss and per-fold final angles of one LOSO run."""
    from fsr_cli.train.engine import FitConfig, fit_folds
    from fsr_cli.train.metrics import score
    from fsr_cli.train.protocols import make_folds

    folds = make_folds(features, "loso")
    fit = FitConfig.from_model(cfg, seed=seed, **({"epochs": epochs} if epochs else {}))
    results = fit_folds(cfg, fit, flow=features.flow, app=features.app, y=features.y, folds=folds)
    y_true = np.concatenate([features.y[f.test_idx] for f in folds])
    y_pred = np.concatenate([r.test_probs.argmax(1) for r in results])
    return {
        "uf1": score(y_true, y_pred, labels=features.classes)["uf1"],
        "loss": float(np.mean([r.history[-1]["loss"] for r in results])),
        "thetas": np.array([r.history[-1]["theta_deg"] for r in results]),  # (folds, layers)
    }


def study(
    folder: Path, *, preset: str, labels: str, seed: int, epochs: int | None, noise: float | None
) -> None:
    from fsr_cli.model.config import load_preset
    from fsr_cli.train.features import build_features, load_sets
    from fsr_cli.train.theta import axial_stats

    extra = {} if noise is None else {"flow_noise": noise}
    cfg = load_preset(preset, **extra)
    features = build_features(
        load_sets([folder]), label_set=labels, flow_size=cfg.flow_size, app_size=cfg.app_size
    )
    n_subjects = len(np.unique(features.groups))
    print(f"\n{folder.name}: {len(features)} samples, {n_subjects} subjects, classes {features.classes}")
    learned = loso_run(cfg, features, seed=seed, epochs=epochs)
    mean, std = axial_stats(learned["thetas"], axis=0)
    near = (np.abs((learned["thetas"] - 90 + 90) % 180 - 90) <= 10).mean(axis=0)
    layers = ", ".join(
        f"{m:.1f} +- {s:.1f} ({n:.0%} of folds in 90 +- 10)" for m, s, n in zip(mean, std, near, strict=True)
    )
    start = "random starts" if cfg.theta_init_deg is None else f"{cfg.theta_init_deg:g} deg"
    print(f"  learned from {start}: layers {layers}; UF1 {learned['uf1']:.3f}")
    for angle in FIXED_ANGLES:
        fixed = load_preset(preset, theta_init_deg=angle, theta_lr_mult=0.0, **extra)
        r = loso_run(fixed, features, seed=seed, epochs=epochs)
        print(f"  fixed at {angle:5.1f} deg: UF1 {r['uf1']:.3f}  final training loss {r['loss']:.4f}")
    plain = loso_run(load_preset("no-orientation", **extra), features, seed=seed, epochs=epochs)
    print(f"  no-orientation:     UF1 {plain['uf1']:.3f}  final training loss {plain['loss']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="*", type=Path, help="prepared dataset folders (default: synth)")
    parser.add_argument("--angles", nargs="*", type=float, default=[0.0, 45.0], help="synth --angle values")
    parser.add_argument("--subjects", type=int, default=24)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--preset", default="facesleuth-r")
    parser.add_argument("--labels", default="composite")
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flow-noise", type=float, default=None, help="default: the presets' flow_noise")
    args = parser.parse_args()

    import torch

    print(f"torch threads {torch.get_num_threads()}; preset {args.preset}; labels {args.labels}")
    noise = "preset default" if args.flow_noise is None else args.flow_noise
    print(f"seed {args.seed}; epochs {args.epochs or 'preset default'}; flow noise {noise}")
    with tempfile.TemporaryDirectory() as tmp:
        folders = args.data or [
            synth_prepared(Path(tmp), angle=a, subjects=args.subjects, clips=args.clips, seed=args.seed)
            for a in args.angles
        ]
        for folder in folders:
            study(
                folder,
                preset=args.preset,
                labels=args.labels,
                seed=args.seed,
                epochs=args.epochs,
                noise=args.flow_noise,
            )


if __name__ == "__main__":
    main()
