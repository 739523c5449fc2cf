"""Dual-Inception (Zhou, Mao, Xue: "Dual-Inception network for cross-database micro-expression
recognition", IEEE FG 2019, the MEGC2019 composite challenge).

Followed: the horizontal (u) and vertical (v) optical flow, each a 28 x 28 map, in two identical
streams; each stream two Inception modules (parallel 1 x 1, 1 x 1 -> 3 x 3, 1 x 1 -> 5 x 5 and
3 x 3 max-pool -> 1 x 1 branches, concatenated) each followed by a 2 x 2 max-pool; the streams'
features concatenated and classified by a fully connected layer of 1024 units and a softmax.
Adapted: branch widths of 6 / 8 / 4 / 4 (the second module twice that) where the paper's figure
is read, not its text; fsr's honest recipe (a fixed 60-epoch budget, the last kept) instead of
the paper's schedule; no dropout (fsr's engine draws every random number from the fold's own
stream, which a network's dropout would not); the strain map is not used, as in the paper.
"""

import torch
from torch import nn


class _Inception(nn.Module):
    def __init__(self, c_in: int, k: int):
        super().__init__()
        self.one = nn.Sequential(nn.Conv2d(c_in, 3 * k, 1), nn.ReLU())
        self.three = nn.Sequential(
            nn.Conv2d(c_in, 2 * k, 1), nn.ReLU(), nn.Conv2d(2 * k, 4 * k, 3, padding=1), nn.ReLU()
        )
        self.five = nn.Sequential(
            nn.Conv2d(c_in, k, 1), nn.ReLU(), nn.Conv2d(k, 2 * k, 5, padding=2), nn.ReLU()
        )
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), nn.Conv2d(c_in, 2 * k, 1), nn.ReLU())
        self.out = 11 * k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.one(x), self.three(x), self.five(x), self.pool(x)], dim=1)


def _stream() -> nn.Sequential:
    a = _Inception(1, 2)
    b = _Inception(a.out, 4)
    return nn.Sequential(a, nn.MaxPool2d(2), b, nn.MaxPool2d(2), nn.Flatten())


class DualInception(nn.Module):
    """Dual-Inception: two streams of two Inception modules on u and v (Zhou et al. 2019)."""

    name = "dual-inception"

    def __init__(self, config, shapes):
        super().__init__()
        _, size, _ = shapes["flow"]
        self.u, self.v = _stream(), _stream()
        width = 2 * 44 * (size // 4) ** 2
        self.head = nn.Sequential(nn.Linear(width, 1024), nn.ReLU(), nn.Linear(1024, shapes["classes"]))

    def forward(self, flow: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.u(flow[:, :1]), self.v(flow[:, 1:2])], dim=1))
