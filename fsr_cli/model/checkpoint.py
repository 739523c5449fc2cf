"""Self-describing checkpoints (after nanoGPT and whisper): one torch.save'd dict per model.

    {"format": "fsr-checkpoint", "version": CHECKPOINT_VERSION, "fsr_version": "0.1.0",
     "config": ModelConfig as a dict, "state_dict": {...}, "classes": ["negative", ...],
     "norm": {"flow_mean": [3 floats], "flow_std": [...], "app_mean": [1 float], "app_std": [...]},
     "extra": {...free-form: fold, epoch, theta history...}}

Only plain containers, numbers, strings and tensors are stored, so loading uses
torch.load(weights_only=True) and never unpickles code.
"""

from __future__ import annotations

from pathlib import Path

import torch

from fsr_cli import __version__
from fsr_cli.errors import FsrError
from fsr_cli.files import atomic_write
from fsr_cli.model.config import ModelConfig
from fsr_cli.model.network import build_model

CHECKPOINT_FORMAT = "fsr-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(
    path, *, cfg: ModelConfig, state_dict: dict, classes: list[str], norm: dict, extra: dict | None = None
) -> None:
    """Write a checkpoint atomically (temp file + os.replace)."""
    path = Path(path)
    doc = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "fsr_version": __version__,
        "config": cfg.to_dict(),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in state_dict.items()},
        "classes": list(classes),
        "norm": {k: [float(x) for x in v] for k, v in norm.items()},
        "extra": extra or {},
    }
    atomic_write(path, lambda tmp: torch.save(doc, tmp))


def load_checkpoint(path) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model of a checkpoint.

    Returns:
        (model in eval mode, the checkpoint dict).

    Raises:
        FsrError: missing or unreadable file, or a checkpoint of another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise FsrError(f"{path}: no such checkpoint")
    try:
        doc = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        raise FsrError(f"{path}: not a readable fsr checkpoint ({e.__class__.__name__}); train again") from e
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise FsrError(f"{path}: not an fsr checkpoint; give a model.pt written by `fsr train`")
    if doc.get("version") != CHECKPOINT_VERSION:
        raise FsrError(
            f"{path}: checkpoint format v{doc.get('version')} (fsr {doc.get('fsr_version')}) is not "
            f"v{CHECKPOINT_VERSION} (fsr {__version__}); retrain with this fsr "
            f"or install fsr {doc.get('fsr_version')}"
        )
    absent = [k for k in ("config", "state_dict", "classes", "norm") if k not in doc]
    if absent:
        raise FsrError(f"{path}: a damaged checkpoint (no {', '.join(absent)}); train the run again")
    cfg = ModelConfig.from_dict(doc["config"], source=str(path), stored=True)
    model = build_model(cfg)
    try:
        model.load_state_dict(doc["state_dict"])
    except RuntimeError as e:  # missing or misshapen weights: torch's message runs to many lines
        first = str(e).splitlines()[0].rstrip(":. ") if str(e) else e.__class__.__name__
        raise FsrError(
            f"{path}: its weights do not fit the {cfg.name} model it records ({first}); train the run again"
        ) from e
    return model.eval(), doc
