"""A plugin's network inside fsr (see plugins.py): the wrapper the engine stacks, checkpoints store
and `theta show` reads, and the check that its logits have the shape fsr needs."""

from __future__ import annotations

import torch
from torch import nn

from fsr_cli.errors import UsageError


def input_shapes(cfg) -> dict:
    return {
        "flow": (3, cfg.flow_size, cfg.flow_size),
        "face": (1, cfg.app_size, cfg.app_size),
        "classes": cfg.n_classes,
    }


class PluginNet(nn.Module):
    """forward(flow, face) -> logits of the plugin's network `net`; thetas_deg() its angles()."""

    def __init__(self, cls: type, cfg):
        super().__init__()
        self.cfg = cfg
        try:
            self.net = cls(cfg, input_shapes(cfg))
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise UsageError(
                f"--model {cfg.arch}: {cls.__name__}(config, shapes) failed ({type(exc).__name__}: {first}); "
                "fix the plugin"
            ) from None
        if not isinstance(self.net, nn.Module):
            raise UsageError(f"--model {cfg.arch}: {cls.__name__} is not a torch.nn.Module; subclass it")

    def forward(self, flow: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return self.net(flow, face)

    def has_angles(self) -> bool:
        return callable(getattr(self.net, "angles", None))

    def thetas_deg(self) -> list[float]:
        return [float(a) for a in self.net.angles()] if self.has_angles() else []


def check_plugin(model: PluginNet) -> None:
    """One forward pass of two blank samples: the logits must be (2, n_classes) and finite.

    Raises:
        UsageError: naming the plugin, what it returned and what it must return.
    """
    cfg = model.cfg
    s, a = input_shapes(cfg)["flow"], input_shapes(cfg)["face"]
    try:
        with torch.no_grad():
            out = model(torch.zeros(2, *s), torch.zeros(2, *a))
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise UsageError(
            f"--model {cfg.arch}: forward(flow {tuple(s)}, face {tuple(a)}) failed on two samples "
            f"({type(exc).__name__}: {first}); fix the plugin"
        ) from None
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if shape != (2, cfg.n_classes):
        raise UsageError(
            f"--model {cfg.arch}: forward returned {shape} for 2 samples; it must return logits of "
            f"shape (2, {cfg.n_classes}), one per class (shapes['classes'])"
        )
