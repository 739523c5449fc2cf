"""A complete fsr model plugin: a small CNN on the flow with one learnable orientation.

    fsr train prepared/composite --protocol loso --model examples/tiny_plugin.py:TinyFlowNet
    fsr theta show runs/train/exp        # its angle per fold, read through angles()

fsr's engine trains it like its own networks (every protocol, selection, --seeds, executor and
device) and writes the same run directory; `fsr evaluate` and `fsr predict` read it as any run.
"""

import math

import torch
from torch import nn


class TinyFlowNet(nn.Module):
    """Two conv stages on (u, v, strain), a learned orientation weighting the motion along it."""

    # optional preset settings: any ModelConfig field (model) or TrainRecipe field (train)
    config = {"epochs": 20, "lr": 0.003, "batch_size": 64}

    def __init__(self, config, shapes):
        super().__init__()
        channels, size, _ = shapes["flow"]  # (3, S, S); shapes["face"] is (1, A, A)
        self.features = nn.Sequential(
            nn.Conv2d(channels + 1, 16, 3, padding=1),
            nn.GELU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(4),
        )
        self.head = nn.Linear(32 * 16, shapes["classes"])
        self.theta = nn.Parameter(torch.tensor(math.pi / 2))  # radians; starts vertical

    def forward(self, flow, face):
        # the motion projected on the learned direction, as a fourth input map
        along = flow[:, :1] * torch.cos(self.theta) + flow[:, 1:2] * torch.sin(self.theta)
        x = self.features(torch.cat([flow, along], dim=1))
        return self.head(x.flatten(1))  # (B, classes) logits

    def angles(self):
        return [math.degrees(float(self.theta.detach())) % 180.0]
