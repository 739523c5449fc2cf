"""facesleuth-public: fsr's FaceSleuth-R with SOA built as the public FaceSleuth code builds it
(github.com/Svardfox/FaceSleuth, CA_block.py), to test whether that formulation of the attention
behaves differently from fsr's (model/soa.py) on the same network, data and training.

Followed (read in the public code): the feature map is turned by -theta through an affine
sampling grid (bilinear, zero padding) and averaged along the turned width, giving one value per
row of the turned map; a squeeze-excite gate (1x1 convolution to max(8, C/16) channels, ReLU, 1x1
back to C, sigmoid) on that profile gives a (B, C, H, 1) gate that multiplies the map's rows as
they are (unturned); theta is the direction of a learned 2-vector, read by atan2, started at 72
degrees (2 pi / 5).
Adapted: the block sits where fsr's SOA sits (after each of the motion stream's three stages),
not inside the public code's ResNet blocks, and the readout is the 4 x 4 region grid, since the
profile readout of fsr's presets needs fsr's own SOA; the public code's 21-d action-unit vector
given at test time and its best-epoch-on-test selection are not used (honest protocol). The rest
is `facesleuth-r` (FPF appearance stream, recipe, input standardisation).
"""

import dataclasses
import math

import torch
from torch import nn
from torch.nn import functional as F

START_DEG = 72.0


class PublicSOA(nn.Module):
    """Orientation pooling along a learned direction and a squeeze-excite gate over rows."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        start = math.radians(START_DEG)
        self.direction = nn.Parameter(torch.tensor([math.cos(start), math.sin(start)]))
        hidden = max(8, channels // reduction)
        self.squeeze = nn.Conv2d(channels, hidden, 1, bias=False)
        self.excite = nn.Conv2d(hidden, channels, 1, bias=False)

    def theta(self) -> torch.Tensor:
        return torch.atan2(self.direction[1], self.direction[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = self.theta()
        cos, sin = torch.cos(t), torch.sin(t)
        # the sampling grid of a turn by -theta about the centre (affine_grid's, align_corners=False,
        # written out: its batching rule under the engine's vmap is a slow fallback)
        ys = (torch.arange(h, dtype=x.dtype, device=x.device) * 2 + 1) / h - 1
        xs = (torch.arange(w, dtype=x.dtype, device=x.device) * 2 + 1) / w - 1
        gy, gx = ys[:, None].expand(h, w), xs[None, :].expand(h, w)
        grid = torch.stack([cos * gx + sin * gy, -sin * gx + cos * gy], dim=-1)  # (H, W, 2)
        grid = grid.expand(b, h, w, 2)
        pooled = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros").mean(3, keepdim=True)
        gate = torch.sigmoid(self.excite(F.relu(self.squeeze(pooled))))  # (B, C, H, 1)
        return x * gate


class FaceSleuthPublic(nn.Module):
    """FaceSleuth-R with the public code's SOA (turned map, row profile, squeeze-excite gate)."""

    name = "facesleuth-public"

    def __init__(self, config, shapes):
        super().__init__()
        from fsr_cli.model.network import FaceSleuthR

        base = dataclasses.replace(config, arch="facesleuth-r", soa="none", readout="grid")
        self.net = FaceSleuthR(base)
        for stage, width in zip(self.net.motion.stages, base.motion_widths, strict=True):
            stage.soa = PublicSOA(width)

    def forward(self, flow: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return self.net(flow, face)

    def angles(self) -> list[float]:
        return [math.degrees(float(s.soa.theta().detach())) % 180.0 for s in self.net.motion.stages]
