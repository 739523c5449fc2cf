"""STSTNet (Liong et al. 2019, "Shallow Triple Stream Three-dimensional CNN (STSTNet) for
micro-expression recognition", FG 2019 / MEGC2019): the composite challenge's own deep baseline,
re-implemented from the paper for its exact input, the 28x28 (u, v, strain) image.

Three parallel 3x3 convolutions (3, 5 and 8 channels, padding 2) -> ReLU -> norm -> 3x3 max-pool
with stride 3 (30 -> 10) each, concatenated (16 channels), 2x2 average pool (10 -> 5), one linear
layer (400 -> classes). The paper's BatchNorm is a GroupNorm here (one group per stream's
channels): the fold-batched engine vmaps over folds, where running statistics cannot live; and
its dropout is left out, because the engine draws every random number from a fold's own stream.
The appearance input is ignored (STSTNet sees motion only).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fsr_cli.model.config import ModelConfig

WIDTHS = (3, 5, 8)


class STSTNet(nn.Module):
    """forward(flow (B,3,S,S), app) -> logits (B, n_classes)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.convs = nn.ModuleList(nn.Conv2d(3, w, 3, padding=2) for w in WIDTHS)
        self.norms = nn.ModuleList(nn.GroupNorm(1, w) for w in WIDTHS)
        side = ((cfg.flow_size + 2 + 2 - 3) // 3 + 1) // 2  # conv pads 2, max-pool k3 s3 p1, avg-pool 2
        self.head = nn.Linear(sum(WIDTHS) * side * side, cfg.n_classes)

    def forward(self, flow: torch.Tensor, app: torch.Tensor) -> torch.Tensor:
        streams = [
            F.max_pool2d(norm(F.relu(conv(flow))), 3, stride=3, padding=1)
            for conv, norm in zip(self.convs, self.norms, strict=True)
        ]
        x = F.avg_pool2d(torch.cat(streams, dim=1), 2)
        return self.head(x.flatten(1))

    def soa_layers(self) -> list:
        return []

    def thetas_deg(self) -> list[float]:
        return []

    def attention_maps(self, flow: torch.Tensor, app: torch.Tensor) -> list[torch.Tensor]:
        return []
