"""Learned SOA orientations of a run: theta.json, its per-layer summary and the plot.

theta.json (written by `fsr train`):
    {"model": "facesleuth-r", "soa": "learned" | "fixed" | "none", "n_layers": L, "epochs": E,
     "folds": {"<fold>": {"start_deg": [L floats], "final_deg": [L floats],
                          "trajectory_deg": [[E floats] per layer]}},
     "final": {...same for the --final model...}}

start_deg is where each angle began: presets with `theta_init_deg: null` draw it at random from
the fold's seed, so it is rebuilt from the run's model config and seed (the engine builds a
fold's model under that same seed). Runs written before it was recorded have no start_deg.

Angles are orientations in degrees in [0, 180) (theta and theta + 180 give the same bins); 90
degrees means the SOA bins are image rows, i.e. FaceSleuth's fixed vertical attention. Mean and
std over folds are therefore axial (circular on the doubled angle), so folds at 179 and 1 degrees
average to 0, not 90.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fsr_cli.errors import UsageError
from fsr_cli.train import rundir

NO_ANGLES = {
    "none": "no orientation attention in this model (no SOA layer): nothing to show",
    "fixed": "angles fixed (not learned) in this model",
}


def soa_mode(model_cfg: dict, n_layers: int, trajectories: list[list[list[float]]]) -> str:
    """'learned', 'fixed' or 'none' from the model config (falls back on whether any angle moved)."""
    mode = model_cfg.get("soa") or model_cfg.get("soa_mode")
    if n_layers == 0 or mode == "none":
        return "none"
    if mode in ("learned", "fixed"):
        return mode
    moved = any(max(t) - min(t) > 1e-6 for fold in trajectories for t in fold if t)
    return "learned" if moved else "fixed"


def fold_thetas(history: list[dict]) -> dict:
    """{"final_deg": [L], "trajectory_deg": [[E] per layer]} from one fold's history."""
    traj = np.array([h.get("theta_deg", []) for h in history], dtype=np.float64)  # (E, L)
    if traj.size == 0:
        return {"final_deg": [], "trajectory_deg": []}
    return {"final_deg": traj[-1].round(4).tolist(), "trajectory_deg": traj.T.round(4).tolist()}


def start_angles(config: dict, fold: str) -> list[float]:
    """The angles a fold's model started from (degrees), as the engine drew them."""
    from fsr_cli.model.config import ModelConfig
    from fsr_cli.train.foldwise import initial_model

    cfg = ModelConfig.from_dict(config["model"], stored=True)
    if not cfg.trains_by_epoch:
        return []  # no network, no angle
    return initial_model(cfg, seed=config["fit"]["seed"], name=fold).thetas_deg()


def theta_doc(run: Path, *, folds: list[str], config: dict) -> dict:
    """theta.json of a run from its folds' history.csv files and the model config."""
    per_fold = {
        f: {"start_deg": start_angles(config, f)}
        | fold_thetas(rundir.read_history(rundir.fold_dir(run, f) / rundir.HISTORY))
        for f in folds
    }
    from fsr_cli.model.config import model_label

    doc: dict = {"model": model_label(config)}
    n_layers = max((len(v["final_deg"]) for v in per_fold.values()), default=0)
    doc["soa"] = soa_mode(config["model"], n_layers, [v["trajectory_deg"] for v in per_fold.values()])
    doc.update(n_layers=n_layers, epochs=config["fit"]["epochs"], folds=per_fold)
    final = rundir.final_dir(run) / rundir.HISTORY
    if final.is_file():
        doc["final"] = {"start_deg": start_angles(config, "final")} | fold_thetas(rundir.read_history(final))
    return doc


def load_theta(run: Path) -> dict:
    """RUN/theta.json, with a clear error for a folder that is not a finished run."""
    run = Path(run)
    rundir.read_config(run)
    path = run / rundir.THETA
    if not path.is_file():
        raise UsageError(f"{run}: no {rundir.THETA}; the run did not finish — `fsr train --resume {run}`")
    import json

    return json.loads(path.read_text())


def axial_stats(deg: np.ndarray, *, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of orientations (period 180 degrees) along `axis`.

    The angles are doubled onto the full circle, averaged as unit vectors, and halved back:
    mean = atan2(sum sin 2t, sum cos 2t) / 2 mod 180, std = sqrt(-2 ln R) / 2 with R the mean
    resultant length (both in degrees).
    """
    doubled = np.radians(np.asarray(deg, dtype=np.float64) * 2)
    s, c = np.sin(doubled).mean(axis=axis), np.cos(doubled).mean(axis=axis)
    mean = np.degrees(np.arctan2(s, c)) / 2 % 180
    r = np.clip(np.hypot(s, c), 1e-12, 1.0)
    std = np.degrees(np.sqrt(-2 * np.log(r))) / 2 + 0.0  # + 0.0: never -0.0 (a fixed angle)
    return mean, std


def summarise(doc: dict, *, run: str | None = None) -> dict:
    """The `fsr theta show --json` document of one run: per layer mean/std and the per-fold angles."""
    out: dict = {"run": run, "model": doc["model"], "soa": doc["soa"], "epochs": doc["epochs"]}
    if doc["soa"] != "learned":
        out["message"] = NO_ANGLES[doc["soa"]]
    layers = []
    for i in range(doc["n_layers"]):
        per_fold = {f: v["final_deg"][i] for f, v in doc["folds"].items() if len(v["final_deg"]) > i}
        starts = {f: v["start_deg"][i] for f, v in doc["folds"].items() if len(v.get("start_deg", [])) > i}
        vals = np.array(list(per_fold.values()), dtype=np.float64)
        traj = np.array([v["trajectory_deg"][i] for v in doc["folds"].values()], dtype=np.float64)  # (F, E)
        mean, std = axial_stats(vals)
        traj_mean, traj_std = axial_stats(traj, axis=0)
        layers.append(
            {
                "layer": i + 1,  # layers are numbered from 1 in every output (theta maps too)
                "mean_deg": round(float(mean), 4),
                "std_deg": round(float(std), 4),
                "min_deg": round(float(vals.min()), 4),
                "max_deg": round(float(vals.max()), 4),
                "per_fold": per_fold,
                "per_fold_start": starts,
                "trajectory_mean_deg": traj_mean.round(4).tolist(),
                "trajectory_std_deg": traj_std.round(4).tolist(),
            }
        )
        if "final" in doc and len(doc["final"]["final_deg"]) > i:
            layers[-1]["final_model_deg"] = doc["final"]["final_deg"][i]
    out["layers"] = layers
    return out


def _plot_layer(ax, layer: dict, n_folds: int, color) -> None:
    """One layer: axial mean over folds per epoch, a +/- std band, the 90-degree line, the final model."""
    mean, std = np.array(layer["trajectory_mean_deg"]), np.array(layer["trajectory_std_deg"])
    epochs = np.arange(1, len(mean) + 1)
    ax.plot(epochs, mean, color=color, lw=1.8, label="mean over folds")
    ax.fill_between(epochs, np.clip(mean - std, 0, 180), np.clip(mean + std, 0, 180), color=color, alpha=0.2,
                    label="+/- std over folds")  # fmt: skip
    ax.axhline(90, color="grey", lw=0.8, ls="--", label="90 deg (vertical, FaceSleuth's CVA)")
    if "final_model_deg" in layer:
        ax.plot(len(mean), layer["final_model_deg"], marker="*", ms=11, color="black", ls="none",
                label="final model (all samples)")  # fmt: skip
    ax.set(xlabel="epoch", ylim=(0, 180), yticks=range(0, 181, 45), xlim=(1, max(2, len(mean))))
    ax.set_title(
        f"layer {layer['layer']}: {layer['mean_deg']:.1f} +/- {layer['std_deg']:.1f} deg "
        f"(n = {n_folds} folds)",
        fontsize=9,
    )


def _plot_polar(polar, layers: list[dict], colors) -> None:
    """Half-polar 0-180 view: every fold's final angle (dots) and the axial mean (bar), one ring per layer."""
    for layer, color in zip(layers, colors, strict=True):
        ring = layer["layer"]
        finals = np.radians(list(layer["per_fold"].values()))
        polar.scatter(finals, np.full(len(finals), ring), s=12, color=color, alpha=0.7)
        mean_rad = np.radians(layer["mean_deg"])
        polar.plot([mean_rad, mean_rad], [ring - 0.4, ring + 0.4], color=color, lw=2.5)
    polar.set_thetamin(0)
    polar.set_thetamax(180)
    polar.set_rlim(0, len(layers) + 0.5)
    polar.set_rticks(range(1, len(layers) + 1), [""] * len(layers))
    polar.set_title(
        "final angle per fold (dots), axial mean (bar);\nrings inside out: layer 1, 2, ...", fontsize=9
    )


def plot(summaries: list[dict], path: Path) -> Path:
    """One row per run: each layer's angle over epochs in its own panel (axial mean, +/- std band over
    folds, the 90-degree line, the final model's angle) and a half-polar view of the final angles.
    A run without learned angles gets one line of text instead of empty axes."""
    from fsr_cli.native import pyplot

    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    cols = max([len(s["layers"]) for s in summaries if s["soa"] == "learned"] or [1]) + 1
    heights = [3.2 if s["soa"] == "learned" and s["layers"] else 0.8 for s in summaries]
    fig = plt.figure(figsize=(3.4 * cols, sum(heights) + 0.6))
    grid = fig.add_gridspec(len(summaries), cols, height_ratios=heights)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r, s in enumerate(summaries):
        name = f"{s['run'] or ''} ({s['model']})".strip()
        if s["soa"] != "learned" or not s["layers"]:
            ax = fig.add_subplot(grid[r, :])
            ax.set_axis_off()
            ax.text(0.0, 0.5, f"{name}: {s.get('message', 'no learned angle')}", va="center", fontsize=9)
            continue
        n_folds = len(s["layers"][0]["per_fold"])
        layer_colors = [colors[i % len(colors)] for i in range(len(s["layers"]))]
        for i, layer in enumerate(s["layers"]):
            ax = fig.add_subplot(grid[r, i])
            _plot_layer(ax, layer, n_folds, layer_colors[i])
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if i == 0:
                ax.set_ylabel(f"{name}\ntheta (deg, mod 180)", fontsize=8)
                ax.legend(fontsize=6, loc="lower left")
        _plot_polar(fig.add_subplot(grid[r, cols - 1], projection="polar"), s["layers"], layer_colors)
    fig.tight_layout()
    from fsr_cli.files import save_figure

    path = save_figure(fig, Path(path))
    plt.close(fig)
    return path
