"""`fsr checks`: versions and the runtime pieces fsr relies on."""

from __future__ import annotations

import typer

from fsr_cli.cli.common import JsonOpt, emit_json, err_console


def collect() -> dict:
    """Versions of fsr and its heavy dependencies, model file locations, TV-L1 availability."""
    import platform

    import cv2
    import dlib
    import numpy
    import torch

    from fsr_cli import __version__
    from fsr_cli.devices import describe, resolve_device
    from fsr_cli.errors import FsrError
    from fsr_cli.resources import CNN_DETECTOR, LANDMARKS_68, face_model_path

    def where(name: str) -> str | None:
        try:
            return str(face_model_path(name))
        except FsrError:
            return None

    return {
        "fsr": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "device_auto": describe(resolve_device("auto")),  # what --device auto picks
        "ray": ray_version(),  # the optional executor (--executor ray); None: not installed
        "opencv": cv2.__version__,
        "dlib": dlib.__version__,
        "landmarks_68": where(LANDMARKS_68),
        "cnn_detector": where(CNN_DETECTOR),
        "tvl1": hasattr(cv2, "optflow") and hasattr(cv2.optflow, "DualTVL1OpticalFlow_create"),
    }


def ray_version() -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version("ray")
    except importlib.metadata.PackageNotFoundError:
        return None


def checks(json_out: JsonOpt = False) -> None:
    """Report versions of fsr, torch, OpenCV and dlib, where the landmark model lies, and TV-L1.

    Exits 1 when something fsr needs is missing.

    Example: fsr checks --json
    """
    doc = collect()
    ok = bool(doc["landmarks_68"] and doc["tvl1"])
    doc["ok"] = ok
    if json_out:
        emit_json(doc)
    else:
        from rich.table import Table

        table = Table(title="fsr checks", show_header=False)
        for k, v in doc.items():
            optional = k in ("cuda", "ray")  # absent is fine: CPU runs, local executor
            table.add_row(k, "[red]missing[/red]" if v in (None, False) and not optional else str(v))
        err_console.print(table)
    if not ok:
        raise typer.Exit(1)
