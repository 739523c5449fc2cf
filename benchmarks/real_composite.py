"""The ablation table on real data: presets x protocols x seeds on an imported composite.

Imports LABELS.csv (`fsr import-flow` format; default: the dev subjects of the MEGC2019
composite in ../shared/data/composite-dev/, read in place, never copied) into a scratch folder,
trains every preset under LOSO and LODO with each seed (`fsr train --seeds`, one run folder per
preset and protocol under --out), and prints one table: pooled UF1 / UAR as mean +/- std over
the seeds (LODO: the mean of the held-out datasets' UF1 as well), the seed ensemble's UF1, the
learned angles per layer (axial mean +/- std over folds and seeds), and the wall time of one
seed's full run.

    python benchmarks/real_composite.py            # the README real-data table (~30 min, 2 cores)
    python benchmarks/real_composite.py --presets facesleuth-r,svm-flow --protocols loso --seeds 0
    python benchmarks/real_composite.py data/labels.csv --out /tmp/ablation --json table.json

Runs already in --out are resumed (finished folds are not trained again), so a killed
benchmark goes on where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fsr_cli.preprocess.importer import import_csv
from fsr_cli.train import rundir
from fsr_cli.train.runner import TrainConfig, plan_run
from fsr_cli.train.seeds import train_run
from fsr_cli.train.theta import axial_stats

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "composite-dev" / "labels.csv"
PRESETS = (
    "facesleuth-r,facesleuth-r-search,cva,no-orientation,motion-only,appearance-only,"
    "svm-flow,svm-flow-std,ststnet"
)


def one(dataset: Path, preset: str, protocol: str, seeds: tuple[int, ...], out: Path, workers: int) -> dict:
    run = out / f"{preset}-{protocol}"
    resume = (run / rundir.CONFIG).is_file()
    cfg = TrainConfig(
        datasets=(dataset,),
        protocol=protocol,
        model=preset,
        seeds=seeds if len(seeds) > 1 else (),
        seed=seeds[0],
        workers=workers,
    )
    if resume:
        from fsr_cli.train.resume import config_from_run

        cfg = config_from_run(run, {})
    run.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    metrics = train_run(plan_run(cfg), run=run, argv=["benchmarks/real_composite.py"], resume=resume)
    wall = time.perf_counter() - t
    row = {
        "preset": preset,
        "protocol": protocol,
        "run": str(run),
        "seeds": list(seeds),
        "seconds_per_seed": None if resume else round(wall / len(seeds), 1),
    }
    sd = metrics.get("seeds") or _one_seed(metrics)
    for k in ("uf1", "uar", "dataset_mean_uf1"):
        row[k] = {"mean": sd["mean"][k], "std": sd["std"][k]}
    row["per_dataset_uf1"] = {k[4:]: sd["mean"][k] for k in sd["mean"] if k.startswith("uf1_")}
    row["ensemble_uf1"] = metrics["uf1"]
    theta = json.loads((run / rundir.THETA).read_text())
    row["theta"] = None
    if theta["soa"] == "learned":
        finals = np.array([v["final_deg"] for v in theta["folds"].values()])  # (folds x seeds, layers)
        mean, std = axial_stats(finals, axis=0)
        row["theta"] = [
            {"mean": round(float(m), 1), "std": round(float(s), 1)} for m, s in zip(mean, std, strict=True)
        ]
    elif theta["soa"] == "fixed":
        row["theta"] = "fixed 90"
    return row


def _one_seed(metrics: dict) -> dict:
    fig = {"uf1": metrics["uf1"], "uar": metrics["uar"]}
    fig.update({f"uf1_{d}": v["uf1"] for d, v in metrics["per_dataset"].items()})
    fig["dataset_mean_uf1"] = float(np.mean([v["uf1"] for v in metrics["per_dataset"].values()]))
    return {"mean": fig, "std": {k: 0.0 for k in fig}}


def pm(d: dict) -> str:
    return f"{d['mean']:.3f} +/- {d['std']:.3f}"


def angle(t: dict) -> str:
    """An axial mean +/- std in degrees: tenths where the folds agree, whole degrees where they scatter."""
    digits = 1 if t["std"] < 10 else 0
    return f"{t['mean']:.{digits}f} +/- {t['std']:.{digits}f}"


def markdown(rows: list[dict], seeds) -> str:
    lines = [
        "| preset | protocol | UF1 | UAR | datasets' mean UF1 | CASME II / SAMM / SMIC UF1 | ensemble UF1 "
        "| angles per layer (deg) | s / seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        th = r["theta"]
        th = "-" if th is None else th if isinstance(th, str) else " / ".join(angle(t) for t in th)
        ds = " / ".join(
            f"{r['per_dataset_uf1'].get(d, float('nan')):.3f}" for d in ("casme2", "samm", "smic")
        )
        lines.append(
            f"| {r['preset']} | {r['protocol']} | {pm(r['uf1'])} | {pm(r['uar'])} "
            f"| {pm(r['dataset_mean_uf1'])} | "
            f"{ds} | {r['ensemble_uf1']:.3f} | {th} | {r['seconds_per_seed'] or '-'} |"
        )
    lines.append(
        f"\nseeds {', '.join(map(str, seeds))}; mean +/- std over seeds (population std); "
        "angles: axial mean +/- std over folds and seeds"
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("labels", nargs="?", type=Path, default=DEV)
    ap.add_argument("--presets", default=PRESETS)
    ap.add_argument("--protocols", default="loso,lodo")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", type=Path, default=None, help="run folders (default: a scratch folder)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    ap.add_argument("--workers", type=int, default=2, help="worker processes per run (default 2)")
    a = ap.parse_args(argv)
    if not a.labels.is_file():
        print(f"skipped: {a.labels} not found (the licensed composite release is not on this machine)")
        return 0
    out = a.out or Path(tempfile.mkdtemp(prefix="fsr-real-"))
    seeds = tuple(int(s) for s in a.seeds.split(","))
    report = import_csv(a.labels, out / "imported")
    print(f"imported {len(report.records)} of {report.rows} rows from {a.labels}", file=sys.stderr)
    rows = []
    for preset in a.presets.split(","):
        for protocol in a.protocols.split(","):
            rows.append(one(out / "imported", preset, protocol, seeds, out, a.workers))
            r = rows[-1]
            print(
                f"{preset} {protocol}: UF1 {pm(r['uf1'])}, datasets' mean {pm(r['dataset_mean_uf1'])}, "
                f"{r['seconds_per_seed']} s/seed",
                file=sys.stderr,
                flush=True,
            )
    print(markdown(rows, seeds))
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
