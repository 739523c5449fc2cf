"""RCN-A, the recurrent convolutional network with an attention unit of Xia, Peng, Hong and Zhao
("Revealing the invisible with model and data shrinking for composite-database micro-expression
recognition", IEEE Trans. Image Processing 29, 2020).

Followed: a shallow network on the onset -> apex optical flow whose convolutional layers are
recurrent convolutional layers (RCL: one feed-forward convolution, then a recurrent convolution
with shared weights unrolled over a few steps, each step normalised and rectified), with max-pools
between them and, in the "A" variant, an attention unit re-weighting the feature maps; global
average pooling and one fully connected layer; few parameters, trained with a fixed budget and the
last model kept (the paper's composite protocol, which is honest).
Adapted (read from the paper's description, not checked against its code): 32 channels, two RCL
blocks unrolled over 3 steps, GroupNorm in place of batch normalisation (fsr's engine trains every
fold's copy at once), a spatial attention unit (a 1 x 1 convolution of the channel mean and max,
sigmoid) for the paper's attention module, the (u, v, strain) maps of the composite release at
28 x 28 for its 60 x 60 input, and fsr's honest recipe (60 epochs).
"""

import torch
from torch import nn
from torch.nn import functional as F


class RCL(nn.Module):
    """x_0 = f(W_ff * x), x_{t+1} = f(W_ff * x + W_rec * x_t): weights shared over the steps."""

    def __init__(self, channels: int, steps: int = 3):
        super().__init__()
        self.ff = nn.Conv2d(channels, channels, 3, padding=1)
        self.rec = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norms = nn.ModuleList(nn.GroupNorm(4, channels) for _ in range(steps + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        drive = self.ff(x)
        h = F.relu(self.norms[0](drive))
        for norm in self.norms[1:]:
            h = F.relu(norm(drive + self.rec(h)))
        return h


class SpatialAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(self.conv(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)))
        return x * a


class RCNA(nn.Module):
    """RCN-A: a stem, two recurrent convolutional layers with attention, GAP, FC (Xia et al. 2020)."""

    name = "rcn-a"

    def __init__(self, config, shapes):
        super().__init__()
        channels, _, _ = shapes["flow"]
        width = 32
        self.stem = nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.GroupNorm(4, width), nn.ReLU())
        self.body = nn.Sequential(
            nn.MaxPool2d(2),
            RCL(width),
            SpatialAttention(),
            nn.MaxPool2d(2),
            RCL(width),
            SpatialAttention(),
        )
        self.head = nn.Linear(width, shapes["classes"])

    def forward(self, flow: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(flow)).mean((2, 3)))
