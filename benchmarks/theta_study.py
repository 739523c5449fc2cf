"""Does the SOA angle matter on a dataset, and where does the learned angle go?

For each dataset (synthesised with `fsr synth --angle A` and preprocessed, or prepared folders
given with --data), LOSO over its subjects with the same folds and seed:

1. learned: the facesleuth-r-search preset as it is (every fold draws one random start for its
   layers from its seed; the default facesleuth-r starts at 90 degrees, so only the search
   preset tests whether an angle can find an axis): every layer's final angle, axial mean +- std
   over the folds (angles are orientations, period 180), the share of folds within 10 degrees of
   the data's axis (90 + the synth --angle; 90 for other data), the share of folds with every
   layer there, and UF1;
2. fixed sweep: the same preset with every angle held at 0, 45, 90 and 135 degrees (theta's
   learning rate set to 0): pooled UF1, the mean final training loss and the mean final flow-noise
   std at each angle (the presets raise the noise while a fold fits its training set, so the
   angle whose model fits best ends with the most noise rather than the lowest loss). A flat
   sweep means the data give the angle nothing to learn from, so a learned angle then only
   reflects its start;
3. no-orientation: the preset without SOA, for scale.

    python benchmarks/theta_study.py                                  # synth --angle 0 and 45
    python benchmarks/theta_study.py --set soa_blur=0 --set flow_noise_margin=0   # ablation
    python benchmarks/theta_study.py --data data/casme2 --epochs 30

`--set KEY=VALUE` overrides a preset setting in every model of the study. Synthesis and
preprocessing take about a minute per dataset at the defaults (24 subjects x 10 clips); each
training run about 35 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import yaml

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
    from fsr_cli.evaluation import score
    from fsr_cli.train.engine import FitConfig, fit_folds
    from fsr_cli.train.protocols import make_folds

    folds = make_folds(features, "loso")
    fit = FitConfig.from_model(cfg, seed=seed, **({"epochs": epochs} if epochs else {}))
    results = fit_folds(cfg, fit, flow=features.flow, app=features.app, y=features.y, folds=folds)
    y_true = np.concatenate([features.y[f.test_idx] for f in folds])
    y_pred = np.concatenate([r.test_probs.argmax(1) for r in results])
    return {
        "uf1": score(y_true, y_pred, labels=features.classes)["uf1"],
        "loss": float(np.mean([r.history[-1]["loss"] for r in results])),
        # with adaptive flow noise the loss is held near its floor; the std it took ranks the fits
        "noise": float(np.mean([r.history[-1]["flow_noise"] for r in results])),
        "thetas": np.array([r.history[-1]["theta_deg"] for r in results]),  # (folds, layers)
    }


def expected_axis(folder: Path) -> float:
    """The dominant motion axis a synthesised dataset was made with (90 + its --angle), else 90."""
    info = folder / "fsr_synth.json"
    if not info.is_file():
        return 90.0
    return (90.0 + float(json.loads(info.read_text())["params"]["angle_deg"])) % 180.0


def within(thetas: np.ndarray, axis: float, tol: float = 10.0) -> np.ndarray:
    """Per angle: within tol degrees of the axis, as orientations (period 180)."""
    return np.abs((thetas - axis + 90.0) % 180.0 - 90.0) <= tol


def study(folder: Path, *, preset: str, labels: str, seed: int, epochs: int | None, extra: dict) -> None:
    from fsr_cli.model.config import load_preset
    from fsr_cli.train.features import build_features, load_sets
    from fsr_cli.train.theta import axial_stats

    cfg = load_preset(preset, **extra)
    features = build_features(
        load_sets([folder]), label_set=labels, flow_size=cfg.flow_size, app_size=cfg.app_size
    )
    n_subjects = len(np.unique(features.groups))
    print(f"\n{folder.name}: {len(features)} samples, {n_subjects} subjects, classes {features.classes}")
    axis = expected_axis(folder)
    learned = loso_run(cfg, features, seed=seed, epochs=epochs)
    mean, std = axial_stats(learned["thetas"], axis=0)
    near = within(learned["thetas"], axis)
    layers = ", ".join(
        f"{m:.1f} +- {s:.1f} ({n:.0%} of folds in {axis:g} +- 10)"
        for m, s, n in zip(mean, std, near.mean(axis=0), strict=True)
    )
    start = "random starts" if cfg.theta_init_deg is None else f"{cfg.theta_init_deg:g} deg"
    print(f"  learned from {start}: layers {layers}; UF1 {learned['uf1']:.3f}")
    print(f"  folds with every layer in {axis:g} +- 10: {near.all(axis=1).mean():.0%} of {len(near)}")
    for angle in FIXED_ANGLES:
        fixed = load_preset(preset, **{**extra, "theta_init_deg": angle, "theta_lr_mult": 0.0})
        r = loso_run(fixed, features, seed=seed, epochs=epochs)
        print(
            f"  fixed at {angle:5.1f} deg: UF1 {r['uf1']:.3f}  final training loss {r['loss']:.4f}"
            f"  flow noise std {r['noise']:.2f}"
        )
    plain = loso_run(load_preset("no-orientation", **extra), features, seed=seed, epochs=epochs)
    print(
        f"  no-orientation:     UF1 {plain['uf1']:.3f}  final training loss {plain['loss']:.4f}"
        f"  flow noise std {plain['noise']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="*", type=Path, help="prepared dataset folders (default: synth)")
    parser.add_argument("--angles", nargs="*", type=float, default=[0.0, 45.0], help="synth --angle values")
    parser.add_argument("--subjects", type=int, default=24)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--preset", default="facesleuth-r-search")
    parser.add_argument("--labels", default="composite")
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a preset setting for every model (YAML value), e.g. soa_blur=0",
    )
    args = parser.parse_args()
    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: expected KEY=VALUE")
        extra[key] = yaml.safe_load(value)
    from fsr_cli.errors import UsageError
    from fsr_cli.model.config import load_preset

    try:  # a bad key or value fails here, in one line, before any synthesis or training
        load_preset(args.preset, **extra)
    except UsageError as e:
        parser.error(str(e))

    import torch

    print(f"torch threads {torch.get_num_threads()}; preset {args.preset}; labels {args.labels}")
    print(f"seed {args.seed}; epochs {args.epochs or 'preset default'}; overrides {extra or 'none'}")
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
                extra=extra,
            )


if __name__ == "__main__":
    main()
