"""`--device auto|cpu|cuda[:N]`: the one place a torch device is chosen and checked.

`auto` takes the first GPU torch sees, else the CPU. Random draws (minibatches, augmentation,
initial weights) are made on the CPU in every case, so a seed gives the same schedule on either
device; only the floating-point kernels differ. Checkpoints are always saved from CPU tensors.
"""

from __future__ import annotations

import re

from fsr_cli.errors import UsageError

DEVICE_HELP = "auto (a GPU when torch sees one, else the CPU), cpu, or cuda / cuda:N."
_CUDA = re.compile(r"^cuda(:(\d+))?$")


def resolve_device(name: str | None) -> str:
    """The torch device string for `name` ('auto', 'cpu', 'cuda', 'cuda:N'); checked against this machine.

    Raises:
        UsageError: an unknown name, or a GPU that torch does not see.
    """
    import torch

    name = (name or "auto").strip().lower()
    if name == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    m = _CUDA.match(name)
    if m is None:
        raise UsageError(f"unknown --device {name!r}; choose auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise UsageError(f"--device {name}: torch sees no GPU here; use --device cpu (or auto)")
    index = int(m.group(2) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise UsageError(f"--device {name}: torch sees {count} GPU(s) (cuda:0 to cuda:{count - 1})")
    return f"cuda:{index}"


def describe(device: str) -> str:
    """'cpu' or 'cuda:0 (NVIDIA ...)' for logs and `fsr checks`."""
    if device.startswith("cuda"):
        import torch

        return f"{device} ({torch.cuda.get_device_name(int(device.split(':')[1]))})"
    return device
