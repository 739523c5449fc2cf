"""`fsr theta maps`: the SOA attention of every layer laid over the aligned face (Figure 3 of the paper).

The input is a clip (video or folder of frames, prepared as `fsr predict` prepares it) or a
sample of a prepared dataset the run was trained on, named 'dataset/subject/clip' and found
through the prepared.json paths in the run's config.yaml. Its flow goes through one model of the
run, and `attention_maps` gives each SOA layer's gate a (channel mean, in [0, 1]) on that
layer's grid; the grid covers the whole aligned crop, so it is drawn stretched over the face.

Which model (--fold): for a sample, by default the fold that held it out (its LOSO subject or
LODO dataset), so the maps show a model that never saw it; for a clip, the final model when
the run has one, else the first fold.

Figure: panel 0 is the aligned apex face with the onset->apex flow (arrows); then one panel per
layer, the gate over the face (one colour scale shared by the layers, with its bar; each
layer's own range is written under its title),
the learned angle in the title, and the SOA profile axis drawn through the centre: the bins are
the lines perpendicular to it, t = x cos(theta) + y sin(theta) with y pointing down, so 90 degrees
is a vertical axis (bins = rows: FaceSleuth's vertical attention).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.predict.predictor import load_predictor

PANEL_IN = 3.0  # inches per panel side
DPI = 100
TITLE_IN = 0.9  # room for the figure title
QUIVER_ARROWS = 16  # flow arrows per side of the crop


@dataclass(frozen=True)
class Target:
    """What the maps are drawn for: the arrays of one aligned clip and where they came from."""

    kind: str  # "clip" | "sample"
    name: str  # the path or the uid
    arrays: dict  # flow (3, S, S), onset, apex (S, S) uint8
    holdout: str | None = None  # the fold that held a sample out
    truth: str | None = None  # a sample's class in the run's label set
    scaled: bool = False  # flow of an imported 0-255 set (only resized); a clip's TV-L1 is in pixels


def _run_datasets(config: dict) -> dict[str, dict]:
    return {d["name"]: d for d in config.get("datasets", []) if "name" in d}


def _holdout_fold(config: dict, dataset: str, subject: str) -> str | None:
    folds = config.get("folds") or []
    for name in (f"{dataset}/{subject}", dataset):
        if name in folds:
            return name
    return None


def find_sample(run: Path, config: dict, uid: str) -> Target:
    """The prepared arrays of sample `uid` ('dataset/subject/clip') in the run's prepared data.

    Every prepared set of the run is searched (an imported set holds samples of several
    datasets under one name).

    Raises:
        UsageError: not a sample of the run (the message names a few that are).
        FsrError: the prepared data is gone.
    """
    from fsr_cli.prepared import load_prepared
    from fsr_cli.train.features import class_of

    datasets = _run_datasets(config)
    seen = []
    for name, entry in datasets.items():
        manifest = Path(entry.get("prepared", ""))
        if not manifest.is_file():
            raise FsrError(
                f"{run}: the prepared data of {name} is not at {manifest} any more; "
                "give the clip's video or frame folder instead"
            )
        pset = load_prepared(manifest)
        for sample in pset.samples:
            if sample.uid == uid:
                truth = class_of(sample.emotion, config["labels"], sample.dataset)
                hold = _holdout_fold(config, sample.dataset, sample.subject)
                return Target("sample", uid, pset.load(sample), hold, truth, pset.scaled)
        seen += [smp.uid for smp in pset.samples]
    shown = ", ".join(seen[:3]) + (", ..." if len(seen) > 3 else "")
    raise UsageError(
        f"{uid}: no such clip file or folder, and not a sample 'dataset/subject/clip' of the run "
        f"({len(seen)} samples, e.g. {shown or 'none'})"
    )


def _normalised(predictor, arrays: dict, scaled: bool):
    import torch

    from fsr_cli.predict import model_inputs
    from fsr_cli.train.foldwise import normalise

    flow, app = model_inputs(arrays, predictor, scaled=scaled)
    _, norm = predictor.models[0]
    flow_t, app_t = (torch.from_numpy(a[None]).to(predictor.device) for a in (flow, app))
    return normalise(flow_t, app_t, norm)  # (1, 3, S, S), (1, 1, A, A)


def layer_maps(predictor, arrays: dict, *, scaled: bool = False) -> tuple[list[np.ndarray], list[float]]:
    """Each SOA layer's attention map (H_i, W_i) and its angle in degrees, for one model
    (`scaled`: the arrays hold an imported 0-255 flow, see Target).

    Raises:
        UsageError: the model has no SOA layer (the no-orientation and appearance-only presets).
    """
    model, _ = predictor.models[0]
    maps = [m[0].cpu().numpy() for m in model.attention_maps(*_normalised(predictor, arrays, scaled))]
    if not maps:
        raise UsageError(
            f"{predictor.paths[0]}: model {model.cfg.name!r} has no SOA layer; no attention maps to draw "
            "(give a run of facesleuth-r, cva or motion-only)"
        )
    return maps, model.thetas_deg()


def _axis_line(ax, theta_deg: float, size: int) -> None:
    """The SOA profile axis through the crop centre, with an arrow head towards +t."""
    c, s = np.cos(np.radians(theta_deg)), np.sin(np.radians(theta_deg))
    half = 0.42 * size
    x0, y0 = size / 2 - half * c, size / 2 - half * s
    ax.annotate(
        "",
        xy=(size / 2 + half * c, size / 2 + half * s),
        xytext=(x0, y0),
        arrowprops={"arrowstyle": "-|>", "color": "white", "lw": 2.2, "mutation_scale": 16},
    )


def _face_panel(ax, arrays: dict, scaled: bool = False) -> None:
    """The aligned apex face with the onset -> apex flow as arrows; an imported flow holds 0-1
    scaled intensities of u and v, not displacements, so it gets no arrows (the title says so)."""
    face, flow = arrays["apex"], arrays["flow"]
    ax.imshow(face, cmap="gray", vmin=0, vmax=255)
    if scaled:
        ax.set_title("aligned apex face\n(imported scaled flow: no arrows)", fontsize=9)
        return
    size, side = face.shape[0], flow.shape[-1]
    k = size / side  # face pixels per flow pixel (1 for preprocessed data)
    step = max(2, side // QUIVER_ARROWS)
    grid = np.arange(step // 2, side, step)
    xs, ys = np.meshgrid(grid, grid)
    u, v = flow[0][ys, xs] * k, flow[1][ys, xs] * k
    peak = float(np.hypot(flow[0], flow[1]).max())
    gain = 1.5 * step / peak if peak > 0 else 1.0  # the longest arrow spans 1.5 grid steps
    # y points down in the image, as v does: angles="xy" keeps that orientation.
    ax.quiver(
        xs * k, ys * k, u, v, color="yellow", angles="xy", scale_units="xy", scale=1 / gain, width=0.006
    )  # noqa: E501
    ax.set_title(f"aligned apex + onset->apex flow\n(arrows x{gain:.0f}, peak {peak:.2f} px)", fontsize=9)


def _layer_panel(ax, face: np.ndarray, amap: np.ndarray, theta: float, i: int, lo: float, hi: float):
    """One layer's gate over the face, on the scale [lo, hi] shared by every layer's panel."""
    size = face.shape[0]
    ax.imshow(face, cmap="gray", vmin=0, vmax=255)
    shown = ax.imshow(
        amap,
        cmap="inferno",
        alpha=0.55,
        extent=(0, size, size, 0),
        interpolation="bilinear",
        vmin=lo,
        vmax=hi,
    )
    _axis_line(ax, theta, size)
    h, w = amap.shape
    ax.set_title(
        f"layer {i + 1}: θ = {theta:.1f}°\n{h}x{w} grid, a ∈ [{amap.min():.2f}, {amap.max():.2f}]", fontsize=9
    )
    return shown


def render(
    out: Path, *, arrays: dict, maps: list[np.ndarray], thetas: list[float], title: str, scaled: bool = False
) -> tuple[int, int]:
    """Draw the figure (1 + len(maps) panels in a row) and write it; returns its (width, height) in px."""
    from fsr_cli.native import pyplot

    plt = pyplot()

    n = 1 + len(maps)
    fig, axes = plt.subplots(1, n, figsize=(PANEL_IN * n, PANEL_IN + TITLE_IN), dpi=DPI)
    _face_panel(axes[0], arrays, scaled)
    # One scale for every layer: a per-panel stretch would make a gate spanning 0.45..0.52 look as
    # strong as one spanning 0..1.
    lo, hi = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
    hi = hi if hi > lo else lo + 1e-6
    shown = None
    for i, (amap, theta) in enumerate(zip(maps, thetas, strict=True)):
        shown = _layer_panel(axes[i + 1], arrays["apex"], amap, theta, i, lo, hi)
    for ax in axes:
        ax.set_axis_off()
    bar = fig.colorbar(shown, ax=list(axes[1:]), fraction=0.025, pad=0.01)
    bar.set_label("SOA gate a (one scale for all layers)", fontsize=8)
    fig.suptitle(title, fontsize=10)
    from fsr_cli.files import save_figure

    save_figure(fig, Path(out), dpi=DPI)
    plt.close(fig)
    return round(PANEL_IN * n * DPI), round((PANEL_IN + TITLE_IN) * DPI)


def _default_fold(run: Path, config: dict) -> str | None:
    from fsr_cli.train import rundir

    if (rundir.final_dir(run) / rundir.MODEL).is_file():
        return "final"
    folds = config.get("folds") or []
    return folds[0] if folds else None  # None: load_predictor names what is missing


def theta_maps(
    run: Path, what: str, *, out: Path, fold: str | None = None, fps: float | None = None, device: str = "cpu"
) -> dict:
    """Draw the attention maps of a run's model for a clip or a sample into `out` (PNG).

    Args:
        run: a run folder of `fsr train`.
        what: a clip path (video or folder of frames) or a sample uid 'dataset/subject/clip'.
        out: the PNG to write.
        fold: a fold name or 'final' (default: see the module docstring).
        fps: frame rate of a folder of frames (default: the run's datasets').
        device: where the model runs (auto, cpu, cuda[:N]).

    Returns:
        {"out", "run", "fold", "model", "input": "clip" | "sample", "source", "layers": [{"layer",
         "theta_deg", "grid": [H, W], "min", "max"}], "size_px": [W, H]}.

    Raises:
        UsageError: a path that is neither a clip nor a sample of the run, an unknown fold.
        FsrError: no model, no SOA layer, no face in the clip, prepared data gone.
    """
    from fsr_cli.predict import check_clip_paths, prepare_video, probabilities
    from fsr_cli.predict.predictor import read_run_config

    run, path = Path(run), Path(what)
    config = read_run_config(run)
    target = None if path.exists() else find_sample(run, config, what)
    chosen = fold or (target.holdout if target else None) or _default_fold(run, config)
    predictor = load_predictor(run=run, fold=chosen, device=device)
    if target is None:
        check_clip_paths([path])
        prepared = prepare_video(path, predictor, fps=fps)
        target = Target("clip", str(path), {k: prepared[k] for k in ("flow", "onset", "apex")})
    maps, thetas = layer_maps(predictor, target.arrays, scaled=target.scaled)
    probs = probabilities(predictor, target.arrays, scaled=target.scaled)
    label, p = predictor.classes[int(np.argmax(probs))], float(probs.max())
    truth = f"true {target.truth}, " if target.truth else ""
    title = (
        f"{run.name}: {predictor.kind}, {target.kind} {target.name}  (arrow: SOA profile axis; 90° = rows)\n"
        f"{truth}predicted {label} (p = {p:.2f})"
    )
    size = render(out, arrays=target.arrays, maps=maps, thetas=thetas, title=title, scaled=target.scaled)
    layers = [
        {
            "layer": i + 1,
            "theta_deg": round(t, 3),
            "grid": list(m.shape),
            "min": float(m.min()),
            "max": float(m.max()),
        }
        for i, (m, t) in enumerate(zip(maps, thetas, strict=True))
    ]
    return {
        "out": str(out),
        "run": str(run),
        "fold": chosen,
        "model": predictor.kind,
        "input": target.kind,
        "source": target.name,
        "truth": target.truth,
        "predicted": label,
        "probability": round(p, 6),
        "layers": layers,
        "size_px": list(size),
    }
