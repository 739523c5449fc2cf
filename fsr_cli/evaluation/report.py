"""Human-readable views of a run: Rich tables (stderr), report.md and confusion.png.

Every view of metrics chosen with `--select test-oracle` carries the LEAKAGE label in its title.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from fsr_cli.evaluation.bootstrap import BOOTSTRAP_DRAWS
from fsr_cli.train.selection import is_leaky


def _f(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _titled(base: str, metrics: dict, **kw) -> Table:
    """A table whose title carries LEAKAGE when the selection looked at the test labels."""
    sel = metrics["selection"]
    if is_leaky(sel):
        return Table(title=f"{base} — LEAKAGE (test-oracle)", caption=f"[red]{sel}[/red]", **kw)
    return Table(title=base, caption=f"selection: {sel}", **kw)


def summary_table(metrics: dict, *, title: str = "pooled") -> Table:
    """Pooled and per-dataset UF1 (with its 95 % interval over subjects) / UAR / accuracy."""
    t = _titled(f"{title}: {metrics['protocol']} / {metrics['labels']} / {metrics['model']}", metrics)
    t.caption = f"{t.caption}; UF1 95 % interval: bootstrap over subjects"
    for col in ("scope", "UF1", "95 % interval", "UAR", "Acc", "n", "absent classes"):
        t.add_column(col, justify="left" if col in ("scope", "absent classes") else "right")
    t.add_row(*_metric_cells("pooled", metrics, interval=True), style="bold")
    for name, m in metrics["per_dataset"].items():
        t.add_row(*_metric_cells(name, m, interval=True))
    return t


def _interval(ci) -> str:
    return "-" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _metric_cells(name: str, m: dict, *, interval: bool = False) -> list[str]:
    """One table row: scope, UF1, (its interval,) UAR, Acc, n, absent classes."""
    return [
        name,
        _f(m["uf1"]),
        *([_interval(m.get("uf1_ci95"))] if interval else []),
        _f(m["uar"]),
        _f(m["acc"]),
        str(m["n_samples"]),
        ", ".join(m["absent_classes"]),
    ]


def notes(metrics: dict) -> list[str]:
    """Lines that go under the tables: absent classes, samples outside the label set, leakage."""
    out = [f"note: {metrics['note']}"] if metrics.get("note") else []
    excluded = {d: e for d, e in metrics.get("excluded", {}).items() if e}
    if excluded:
        out.append(
            f"left out (outside label set {metrics['labels']}): "
            + "; ".join(f"{d}: " + ", ".join(f"{k} {v}" for k, v in e.items()) for d, e in excluded.items())
        )
    if metrics["leakage"]:
        out.append(f"[red]{metrics['selection']}[/red]")  # the label itself says LEAKAGE
    return out


def fold_table(metrics: dict) -> Table:
    """Per-fold figures (UF1/UAR over the classes present in that fold's truth)."""
    t = _titled("per fold", metrics)
    for col in ("fold", "UF1", "UAR", "Acc", "n", "absent classes"):
        t.add_column(col, justify="left" if col in ("fold", "absent classes") else "right")
    for name, m in metrics["per_fold"].items():
        t.add_row(*_metric_cells(name, m))
    return t


def _pm(mean, std) -> str:
    return "-" if mean is None else f"{mean:.3f} +/- {abs(std or 0.0):.3f}"


def _figure_name(key: str) -> str:
    """uf1 -> UF1, uf1_samm -> samm UF1, dataset_mean_uf1 -> datasets' mean UF1."""
    if key == "dataset_mean_uf1":
        return "datasets' mean UF1"
    if key.startswith("uf1_"):
        return f"{key[4:]} UF1"
    return {"uf1": "UF1", "uar": "UAR", "acc": "Acc"}.get(key, key)


def seeds_table(metrics: dict) -> Table | None:
    """Each seed's figures, their mean +/- std, and the seed ensemble's (None for one seed)."""
    sd = metrics.get("seeds")
    if not sd:
        return None
    names = list(sd["mean"])
    t = _titled(f"{len(sd['seeds'])} seeds: {metrics['protocol']} / {metrics['model']}", metrics)
    # The row names never wrap; at 80 columns the figures wrap at "+/-" instead of being cut.
    t.add_column("seed", no_wrap=True, min_width=len("mean +/- std"))
    for n in names:
        t.add_column(_figure_name(n), justify="right")
    for s, fig in sd["per_seed"].items():
        t.add_row(s, *(_f(fig[n]) for n in names))
    t.add_row("mean +/- std", *(_pm(sd["mean"][n], sd["std"][n]) for n in names), style="bold")
    ens = {"uf1": metrics["uf1"], "uar": metrics["uar"], "acc": metrics["acc"]}
    ens.update({f"uf1_{d}": v["uf1"] for d, v in metrics["per_dataset"].items()})
    ds = [v["uf1"] for v in metrics["per_dataset"].values() if v["uf1"] is not None]
    ens["dataset_mean_uf1"] = sum(ds) / len(ds) if ds else None
    t.add_row("ensemble", *(_f(ens.get(n)) for n in names))
    return t


def comparison_tables(rows: list[dict]) -> list[Table]:
    """Runs side by side, in two tables that fit 80 columns: what each run is (numbered, leaky
    selections flagged), then its pooled and per-dataset UF1, UAR and Acc, one row per figure."""
    datasets = list(dict.fromkeys(d for r in rows for d in r["per_dataset"]))
    runs = Table(title="runs compared")
    for col in ("#", "run", "model", "protocol", "labels", "n", "epochs", "seeds", "selection"):
        runs.add_column(col, overflow="fold", no_wrap=col == "#")
    figures = Table(title="runs compared: UF1 / UAR / Acc")
    for col in ("#", "figure", "pooled", *datasets):
        figures.add_column(col, justify="left" if col in ("#", "figure") else "right")
    for i, r in enumerate(rows, 1):
        sel = "[red]LEAKAGE (test-oracle)[/red]" if r["leakage"] else str(r["selection"]).split(" (")[0]
        runs.add_row(
            str(i),
            r["run"],
            str(r["model"]),
            str(r.get("protocol")),
            str(r["labels"]),
            str(r["n_samples"]),
            "-" if r["epochs"] is None else str(r["epochs"]),
            ",".join(map(str, r["seeds"])),
            sel,
        )
        for m, name in (("uf1", "UF1"), ("uar", "UAR"), ("acc", "Acc")):
            cells = [_f(v[m]) if (v := r["per_dataset"].get(d)) else "-" for d in datasets]
            figures.add_row(str(i) if m == "uf1" else "", name, _f(r[m]), *cells, end_section=m == "acc")
    return [runs, figures]


def difference_table(diffs: list[dict]) -> Table:
    """UF1 of each run minus the first run's, with the paired bootstrap interval over subjects."""
    base = diffs[0]["b"] if diffs else ""
    t = Table(
        title=f"UF1 difference from {base}",
        caption="95 % interval: paired bootstrap over subjects; "
        "P(<= 0): share of draws where the run is not better",
    )
    for col in ("run", "UF1 diff", "95 % interval", "P(<= 0)", "n", "subjects"):
        t.add_column(col, justify="left" if col == "run" else "right", overflow="fold", no_wrap=col != "run")
    for d in diffs:
        lo, hi = d["ci95"]
        t.add_row(
            d["a"],
            f"{d['uf1_diff']:+.3f}",
            f"[{lo:+.3f}, {hi:+.3f}]",
            f"{d['p_a_not_better']:.3f}",
            str(d["n_samples"]),
            str(d["n_subjects"]),
        )
    return t


def _trajectory_epochs(n: int, points: int = 5) -> list[int]:
    """Indices of a few evenly spaced epochs of an n-epoch trajectory (first and last included)."""
    return sorted({round(k * (n - 1) / (points - 1)) for k in range(points)}) if n else []


def _trajectory(traj: list[float]) -> str:
    """The trajectory's values at _trajectory_epochs."""
    return " -> ".join(f"{traj[i]:.1f}" for i in _trajectory_epochs(len(traj))) or "-"


def theta_tables(summary: dict) -> list[Table]:
    """Per layer mean +/- std over folds and its mean trajectory; then every fold's final angles."""
    head = Table(title=f"SOA angles (degrees): {summary['run'] or ''} ({summary['model']}, {summary['soa']})")
    n = len(summary["layers"][0]["trajectory_mean_deg"]) if summary["layers"] else 0
    at = ", ".join(str(i + 1) for i in _trajectory_epochs(n))
    for col in ("layer", "mean +/- std", "min", "max", f"axial mean over folds at epochs {at}"):
        head.add_column(col, justify="left" if col.startswith("axial") else "right")
    for layer in summary["layers"]:
        head.add_row(
            str(layer["layer"]),
            f"{layer['mean_deg']:.2f} +/- {layer['std_deg']:.2f}",
            f"{layer['min_deg']:.2f}",
            f"{layer['max_deg']:.2f}",
            _trajectory(layer["trajectory_mean_deg"]),
        )
    folds = Table(title="angle per fold (degrees): start -> final")
    folds.add_column("fold")
    for layer in summary["layers"]:
        folds.add_column(f"layer {layer['layer']}", justify="right")
    names = list(summary["layers"][0]["per_fold"]) if summary["layers"] else []
    for name in names:
        folds.add_row(name, *(_start_final(layer, name) for layer in summary["layers"]))
    return [head, folds]


def _start_final(layer: dict, fold: str) -> str:
    start = layer.get("per_fold_start", {}).get(fold)
    final = f"{layer['per_fold'][fold]:.2f}"
    return final if start is None else f"{start:.2f} -> {final}"


def confusion_png(metrics: dict, path: Path, *, run: str | None = None) -> Path:
    """Pooled confusion matrix as a PNG: counts and the row-normalised view (each true class's
    share predicted as each class, i.e. per-class recall on the diagonal), titled with the run,
    model, protocol, n and the figures."""
    from fsr_cli.native import pyplot

    plt = pyplot()
    import numpy as np

    cm = np.array(metrics["confusion"])
    classes = metrics["classes"]
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, dtype=float), where=rows > 0)
    k = len(classes)
    fig, axes = plt.subplots(1, 2, figsize=(2.4 * k + 3, 1.2 * k + 2.2))
    views = (
        (cm, "counts", lambda v: str(int(v)), cm.max() or 1),
        (share, "row-normalised (recall)", "{:.2f}".format, 1),
    )
    for ax, (m, name, fmt, top) in zip(axes, views, strict=True):
        ax.imshow(m, cmap="Blues", vmin=0, vmax=top)
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, fmt(v), ha="center", va="center", color="white" if v > top / 2 else "black")
        ax.set(
            xticks=range(k), yticks=range(k), xticklabels=classes, yticklabels=classes,
            xlabel="predicted", ylabel="true", title=name,
        )  # fmt: skip
    leak = "  [LEAKAGE: test-oracle]" if metrics["leakage"] else ""
    head = f"{run}: " if run else ""
    fig.suptitle(
        f"{head}{metrics['model']}, {metrics['protocol']}, n = {metrics['n_samples']}\n"
        f"UF1 {_f(metrics['uf1'])}  UAR {_f(metrics['uar'])}  acc {_f(metrics['acc'])}{leak}",
        fontsize=10,
    )
    fig.tight_layout()
    from fsr_cli.files import save_figure

    save_figure(fig, Path(path))
    plt.close(fig)
    return path


def write_views(run: Path, metrics: dict, *, config: dict, theta: dict) -> None:
    """The run's human views: confusion.png, theta.png (learned angles only) and report.md."""
    import json
    import shlex

    from fsr_cli.train import rundir
    from fsr_cli.train.theta import plot

    confusion_png(metrics, run / "confusion.png", run=run.name)
    has_plot = theta["soa"] == "learned" and bool(theta["layers"])
    if has_plot:
        plot([theta], run / "theta.png")
    env = run / "env.json"
    if not env.is_file():  # a multi-seed run: each seed's folder has the command line
        env = next(iter(sorted((run / "seeds").glob("seed-*/env.json"))), env)
    try:
        command = shlex.join(json.loads(env.read_text())["argv"])
    except (OSError, ValueError, KeyError, TypeError):
        command = None
    text = report_md(metrics, config=config, theta=theta, command=command, theta_png=has_plot)
    rundir.write_text(run / "report.md", text)


def report_md(
    metrics: dict, *, config: dict, theta: dict, command: str | None = None, theta_png: bool = False
) -> str:
    """report.md: the setup and command, pooled / per-dataset / per-class figures, exclusions, the
    confusion matrix, the angles (per layer, per fold start -> final, the final model's), and the
    per-fold table with the fold scores' mean +/- std."""
    leak, fit = metrics["leakage"], config["fit"]
    lines = [f"# fsr run: {metrics['protocol']} / {metrics['labels']} / {metrics['model']}", ""]
    if leak:
        lines += [
            f"> **LEAKAGE** — selection: {metrics['selection']}. These figures looked at the test labels "
            "and are not comparable with honest results. Fold models (model.pt) are the last epoch's.",
            "",
        ]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"- selection: {metrics['selection']}",
        f"- datasets: {', '.join(metrics['datasets'])}; {metrics['n_samples']} samples, "
        f"{len(metrics['per_fold'])} folds; classes: {', '.join(metrics['classes'])}",
        f"- epochs: {fit['epochs']}, batch {fit['batch_size']}, lr {fit['lr']}, "
        + (
            f"seeds {', '.join(map(str, config['seeds']))} (figures below: the seed ensemble)"
            if config.get("seeds")
            else f"seed {config['seed']}"
        ),
        "",
    ]
    sd = metrics.get("seeds")
    if sd:
        names = list(sd["mean"])
        lines += [
            "| seed | " + " | ".join(_figure_name(n) for n in names) + " |",
            "|---" * (len(names) + 1) + "|",
            *(
                f"| {s} | " + " | ".join(_f(fig[n]) for n in names) + " |"
                for s, fig in sd["per_seed"].items()
            ),
            "| **mean +/- std** | " + " | ".join(_pm(sd["mean"][n], sd["std"][n]) for n in names) + " |",
            "",
        ]
    lines += [
        "| scope | UF1 | UF1 95 % interval | UAR | Acc | n | absent classes |",
        "|---|---|---|---|---|---|---|",
        *(
            "| " + " | ".join(_metric_cells(name, m, interval=True)) + " |"
            for name, m in [("**pooled**", metrics), *metrics["per_dataset"].items()]
        ),
        "",
        f"UF1 95 % interval: bootstrap over subjects ({BOOTSTRAP_DRAWS} draws, seed 0).",
    ]
    if metrics.get("note"):
        lines += ["", f"Note: {metrics['note']}."]
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for c, m in metrics["per_class"].items():
        lines.append(f"| {c} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} | {m['support']} |")
    excluded = {d: e for d, e in metrics.get("excluded", {}).items() if e}
    if excluded:
        lines += [
            "",
            f"Left out (outside label set {metrics['labels']}): "
            + "; ".join(f"{d}: " + ", ".join(f"{k} {v}" for k, v in e.items()) for d, e in excluded.items()),
        ]
    lines += [
        "",
        "## Confusion (rows: truth, columns: prediction)",
        "",
        "![confusion](confusion.png)",
        "",
        "| | " + " | ".join(metrics["classes"]) + " |",
        "|---" * (len(metrics["classes"]) + 1) + "|",
    ]
    lines += [
        f"| {c} | " + " | ".join(str(v) for v in row) + " |"
        for c, row in zip(metrics["classes"], metrics["confusion"], strict=True)
    ]
    lines += ["", "## Orientation (SOA angles, degrees)", ""]
    if theta["soa"] != "learned":
        lines.append(theta.get("message", ""))
    for layer in theta["layers"]:
        final = f"; final model {layer['final_model_deg']:.2f}" if "final_model_deg" in layer else ""
        lines.append(
            f"- layer {layer['layer']}: {layer['mean_deg']:.2f} +/- {layer['std_deg']:.2f} over "
            f"{len(layer['per_fold'])} folds (axial; min {layer['min_deg']:.2f}, "
            f"max {layer['max_deg']:.2f}){final}"
        )
    if theta_png:
        lines += ["", "![angles](theta.png)"]
    if theta["soa"] == "learned" and theta["layers"]:
        n = len(theta["layers"])
        lines += [
            "",
            "| fold | " + " | ".join(f"layer {i + 1}: start -> final" for i in range(n)) + " |",
            "|---" * (n + 1) + "|",
        ]
        for fold in theta["layers"][0]["per_fold"]:
            cells = [_start_final(layer, fold) for layer in theta["layers"]]
            lines.append(f"| {fold} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Per fold",
        "",
        "| fold | UF1 | UAR | Acc | n | absent classes |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in metrics["per_fold"].items():
        lines.append(
            f"| {name} | {_f(m['uf1'])} | {_f(m['uar'])} | {_f(m['acc'])} | {m['n_samples']} | "
            f"{', '.join(m['absent_classes'])} |"
        )
    import numpy as np

    folds = metrics["per_fold"].values()
    scores = [[m[k] for m in folds if m[k] is not None] for k in ("uf1", "uar", "acc")]
    spread = [_pm(float(np.mean(v)), float(np.std(v))) if v else "-" for v in scores]
    lines.append(f"| **mean +/- std over folds** | {spread[0]} | {spread[1]} | {spread[2]} | | |")
    lines += ["", "Pooled figures (above) are the protocol's; a fold's own UF1 on a few samples is noisy."]
    return "\n".join(lines) + "\n"
