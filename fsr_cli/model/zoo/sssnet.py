"""SSSNet, the shallow single-stream network of Varanka, Peng and Zhao ("Data leakage and
evaluation issues in micro-expression analysis", IEEE Trans. Affective Computing 2023), the
baseline that paper trains under an honest protocol.

Followed: one stream on the stacked (u, v, strain) maps; two convolutional layers (32 and 64
channels) and two fully connected layers (256, then the classes), as its public description
gives them (hidden dimensions 32, 64, 256).
Adapted: 3 x 3 kernels with batch normalisation replaced by GroupNorm and a 2 x 2 max-pool after
each convolution (what the description leaves open; GroupNorm because fsr's engine trains every
fold's copy at once and batch statistics would mix nothing but are not needed); no dropout (the
original uses 0.5; fsr's engine draws every random number from each fold's own stream, which a
network's dropout would not); fsr's honest recipe with a fixed 60-epoch budget.
"""

import torch
from torch import nn


class SSSNet(nn.Module):
    """Shallow single-stream CNN: two convolutions (32, 64), FC 256 (Varanka et al. 2023)."""

    name = "sssnet"

    def __init__(self, config, shapes):
        super().__init__()
        channels, size, _ = shapes["flow"]
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1),
            nn.GroupNorm(4, 32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.GroupNorm(8, 64),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(64 * (size // 4) ** 2, 256), nn.ReLU(), nn.Linear(256, shapes["classes"])
        )

    def forward(self, flow: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(flow))
