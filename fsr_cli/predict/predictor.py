"""The models of a run (or one checkpoint), loaded once, with the preprocessing that matches them.

Used by `fsr predict` and `fsr theta maps`. Which model files a run gives (RUN layout in
fsr_cli.train.rundir):

    default        RUN/final/model.pt when the run has one (`fsr train --final`), else every
                   finished fold model RUN/folds/<fold>/model.pt, averaged (mean of softmax)
    fold="final"   RUN/final/model.pt
    fold="<name>"  one fold's model, by the name config.yaml lists ('casme2/01', 'samm', ...)

The crop side and drift setting are the ones the training data were preprocessed with (recorded
in the run's config.yaml and in every checkpoint), so a clip is aligned as the training samples
were; the frame rate of a folder of frames defaults to the native rate of the run's datasets.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from fsr_cli.errors import FsrError, UsageError

DEFAULT_CROP = 128  # PreprocessConfig's default, for a checkpoint without its run


@dataclass(frozen=True)
class Predictor:
    """Loaded models and the preprocessing settings that match them."""

    models: tuple  # ((model in eval mode, norm dict), ...)
    classes: tuple[str, ...]
    flow_size: int
    app_size: int
    kind: str  # "final" | "ensemble of N fold models" | "fold <name>" | "checkpoint"
    source: Path  # the run folder or the checkpoint file
    paths: tuple[Path, ...]  # the model.pt files
    crop: int = DEFAULT_CROP  # aligned face side the training data was preprocessed at
    device: str = "cpu"  # where the models sit (devices.resolve_device)
    remove_drift: bool = True
    fps: float | None = None  # the run's datasets' native frame rate (for folders of frames)
    config: dict | None = None  # the run's config.yaml
    warnings: tuple[str, ...] = ()
    load_s: float = 0.0


def read_run_config(run: Path) -> dict:
    """config.yaml of a run.

    Raises:
        UsageError: no such folder, or a folder that is not a run.
        FsrError: a run of another format version, or a damaged config.yaml.
    """
    from fsr_cli.train import rundir

    run = Path(run)
    if not run.is_dir():
        raise UsageError(f"{run}: no such run folder; give a folder made by `fsr train`")
    if not (run / rundir.CONFIG).is_file():
        rundir.read_config(run)  # raises the 'not a training run' usage error
    try:
        return rundir.read_config(run)
    except UsageError as exc:  # config.yaml is there: a run of another version, a runtime failure
        raise FsrError(str(exc)) from exc


def run_model_files(run: Path, config: dict, *, fold: str | None = None) -> tuple[str, list[Path], list[str]]:
    """(kind, model files, warnings) of a run: see the module docstring. The warnings say when
    the default choice is not what the run promises (a --final run without its final model, an
    ensemble missing some of its folds).

    Raises:
        UsageError: an unknown fold name (the message lists the run's folds).
        FsrError: the run (or the fold) has no trained model.
    """
    from fsr_cli.train import rundir

    arch = (config.get("model") or {}).get("arch", "facesleuth-r")
    if arch == "svm":
        raise UsageError(
            f"{run}: a {config['model'].get('name', 'svm-flow')} run keeps no network to predict with; "
            "give the run of a network preset (facesleuth-r, cva, ststnet, ...)"
        )
    final = rundir.final_dir(run) / rundir.MODEL
    folds = list(config.get("folds") or [])
    if fold is not None:
        if fold != "final" and fold not in folds:
            shown = ", ".join(["final", *folds[:8]]) + (", ..." if len(folds) > 8 else "")
            raise UsageError(f"--fold {fold!r} is not a fold of {run}; choose one of: {shown}")
        path = final if fold == "final" else rundir.fold_dir(run, fold) / rundir.MODEL
        if not path.is_file():
            raise FsrError(
                f"{path}: no such model; train it with `fsr train --resume {run}` (add --final for 'final')"
            )
        return ("final" if fold == "final" else f"fold {fold}"), [path], []
    if final.is_file():
        return "final", [final], []
    warnings = []
    if config.get("final"):
        warnings.append(f"{final} is missing (the run was trained with --final); using the fold models")
    files = [rundir.fold_dir(run, f) / rundir.MODEL for f in folds]
    absent = [f for f, path in zip(folds, files, strict=True) if not path.is_file()]
    files = [f for f in files if f.is_file()]
    if not files:
        raise FsrError(
            f"{run}: no trained model (no final/model.pt, no folds/*/model.pt); "
            f"finish the run with `fsr train --resume {run}`"
        )
    if absent:
        shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
        warnings.append(
            f"{len(absent)} of {len(folds)} fold models are missing ({shown}); "
            f"the ensemble averages the other {len(files)}"
        )
    return f"ensemble of {len(files)} fold models", files, warnings


def dataset_fps(names: list[str]) -> float | None:
    """The native frame rate shared by the named datasets (None when unknown or mixed)."""
    rates = set()
    for name in names:
        try:
            rates.add(float(importlib.import_module(f"fsr_cli.data.{name}").FPS))
        except (ImportError, AttributeError):
            return None
    return rates.pop() if len(rates) == 1 else None


def _prepared_json(config: dict) -> list[dict]:
    """Preprocessing of a run written before it was recorded: read from its prepared.json files."""
    from fsr_cli.prepared import preprocessing_record

    found = []
    for d in config.get("datasets", []):
        try:
            doc = json.loads(Path(d["prepared"]).read_text())
        except (OSError, KeyError, TypeError, ValueError):
            continue  # the prepared data may live on another machine; the defaults then apply
        found.append(preprocessing_record(doc.get("params", {}), scaled=bool(doc.get("scaled"))))
    return found


def preprocessing(config: dict, extra: dict) -> tuple[int, bool, bool]:
    """(crop side, drift removal, any imported data) the models were trained with.

    From the run's config.yaml, else the checkpoint, else (older runs) the prepared.json files;
    the PreprocessConfig defaults where none says.
    """
    entries = [d["preprocessing"] for d in config.get("datasets", []) if "preprocessing" in d]
    entries = entries or list(extra.get("preprocessing", [])) or _prepared_json(config)
    computed = [e for e in entries if e.get("size") is not None]
    first = computed[0] if computed else {}
    return (
        int(first.get("size", DEFAULT_CROP)),
        bool(first.get("remove_drift", True)),
        any(e.get("scaled") for e in entries),
    )


def _load(files: list[Path], source: Path):
    from fsr_cli.model.checkpoint import load_checkpoint

    loaded = [load_checkpoint(f) for f in files]
    shapes = {(tuple(d["classes"]), d["config"]["flow_size"], d["config"]["app_size"]) for _, d in loaded}
    if len(shapes) > 1:
        raise FsrError(f"{source}: the fold models disagree on classes or input sizes; train the run again")
    return tuple((m, d["norm"]) for m, d in loaded), shapes.pop(), loaded[0][1].get("extra", {})


def load_predictor(
    *, run: Path | None = None, checkpoint: Path | None = None, fold: str | None = None, device: str = "cpu"
) -> Predictor:
    """Load the models of a run (or one checkpoint) and the dlib face models, once for all clips.

    Args:
        run: a run folder of `fsr train`.
        checkpoint: one model.pt instead of a run.
        fold: with run, one fold's model ('casme2/01') or 'final' instead of the default choice.
        device: auto, cpu, cuda or cuda:N (checkpoints are stored on the CPU and moved there).

    Raises:
        UsageError: neither or both of run/checkpoint, a missing path, a folder that is not a
            run, an unknown fold.
        FsrError: a run or checkpoint of another format version, a run without models, or
            fold models that disagree on classes or input sizes.
    """
    from fsr_cli.devices import resolve_device
    from fsr_cli.preprocess import face

    t0 = time.perf_counter()
    device = resolve_device(device)
    if (run is None) == (checkpoint is None):
        raise UsageError("give exactly one of --run RUN or --checkpoint FILE")
    config, warnings = None, []
    if run is not None:
        config = read_run_config(run)
        kind, files, warnings = run_model_files(Path(run), config, fold=fold)
    else:
        kind, files = "checkpoint", [Path(checkpoint)]
        if not files[0].is_file():
            raise UsageError(f"{checkpoint}: no such checkpoint; give a model.pt written by `fsr train`")
    source = Path(run if run is not None else checkpoint)
    models, (classes, flow_size, app_size), extra = _load(files, source)
    models = tuple((m.to(device), norm) for m, norm in models)
    crop, remove_drift, scaled = preprocessing(config or {}, extra)
    if scaled:
        warnings.append(
            "the run was trained on imported flows (0-255 images); the TV-L1 flow of a clip is in "
            "pixels, so these probabilities are not calibrated"
        )
    face.hog_detector()
    face.shape_predictor()
    return Predictor(
        models=models,
        classes=classes,
        flow_size=int(flow_size),
        app_size=int(app_size),
        kind=kind,
        source=source,
        paths=tuple(files),
        crop=crop,
        device=device,
        remove_drift=remove_drift,
        fps=dataset_fps([d.get("name", "") for d in config.get("datasets", [])]) if config else None,
        config=config,
        warnings=tuple(warnings),
        load_s=time.perf_counter() - t0,
    )
