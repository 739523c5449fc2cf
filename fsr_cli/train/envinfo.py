"""env.json: what a run needs to be reproduced — versions, seed, argv and the exact prepared data.

No hostname, user name or absolute home path is recorded beyond the paths the user gave.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from fsr_cli import __version__
from fsr_cli.cache import file_hash
from fsr_cli.errors import UsageError
from fsr_cli.prepared import MANIFEST


def versions() -> dict[str, str]:
    import cv2
    import numpy
    import sklearn
    import torch

    return {
        "fsr": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "sklearn": sklearn.__version__,
        "opencv": cv2.__version__,
    }


def env_doc(*, seed: int, argv: list[str] | None, sets, workers: int, execution: dict | None = None) -> dict:
    """The env.json document; `prepared` pins each manifest (and so every flow entry key) by sha256."""
    import torch

    return {
        "versions": versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "seed": seed,
        "argv": list(argv if argv is not None else sys.argv),
        "workers": workers,
        "torch_threads": torch.get_num_threads(),
        # where the folds ran: executor, workers, device (and Ray's version and cluster resources)
        "execution": execution or {"executor": "local", "workers": workers, "device": "cpu"},
        "prepared": [
            {"dataset": s.dataset, "path": str(s.root / MANIFEST), "sha256": file_hash(s.root / MANIFEST)}
            for s in sets
        ],
    }


def check_same_data(run: Path, env: dict) -> None:
    """A resumed run must read the same prepared data as the folds it already trained."""
    path = run / "env.json"
    if not path.is_file():
        raise UsageError(f"{run}: no env.json; it is not a run made by `fsr train`")
    old = {p["dataset"]: p["sha256"] for p in json.loads(path.read_text())["prepared"]}
    new = {p["dataset"]: p["sha256"] for p in env["prepared"]}
    if old != new:
        changed = sorted(set(old) ^ set(new) | {d for d in set(old) & set(new) if old[d] != new[d]})
        raise UsageError(
            f"{run}: the prepared data changed since this run started ({', '.join(changed)}); "
            "start a new run instead of --resume"
        )
