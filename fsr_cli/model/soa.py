"""Single-Orientation Attention (SOA) of FaceSleuth / FaceSleuth-R (Wu et al., arXiv 2506.02695).

For a feature map X (B, C, H, W) and an angle theta, every pixel gets the coordinate
t = x cos(theta) + y sin(theta), with pixel-centred coordinates (x right, y down, origin at the
map centre). The pixels are pooled into K bins along t; the pooled profile (B, C, K) is
standardised along t and goes through a depthwise 1-D conv and a sigmoid; the gate is spread
back over the map with the same assignment; X is reweighted with a residual: Y = X * (1 + a).
The residual keeps the signal path open whatever the angle, so a badly oriented gate early in
training cannot erase features. The standardisation makes the gate respond to *where* along t
the activity lies rather than to its level (a line mean dilutes a local patch by the line
length, and without it the gate stays nearly flat).

The assignment is linear interpolation (triangular weights) between K bin centres evenly
spanning the t-range of the map. At theta = 90 degrees with K = H the centres fall exactly on the
rows, so SOA equals the fixed row-wise vertical attention (CVA) of FaceSleuth. The weights are
piecewise linear in t, hence in theta, so gradients reach theta (apart from measure-zero kinks
where a pixel sits exactly on a bin centre; autograd then takes a one-sided slope).

During the first part of training the engine can widen the triangles (`blur`, the presets'
soa_blur schedule): each bin then pools a wide band, the profile is close to a linear ramp along
t, and the loss depends on theta smoothly and over the whole circle, so the angle first finds the
right half-plane and then the narrowing bins refine it (a coarse-to-fine search). With soa_tie
the engine also moves every layer's angle by the mean of the layers' gradients while the bins
are blurred, so the layers search as one. Inference and the end of training always use the exact
bins (blur 0).

Angles are in image coordinates: 0 degrees = profile along x (columns pooled), 90 degrees =
profile along y (rows pooled). theta and theta + 180 give the same bins in reverse order, so
reported angles are taken modulo 180.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Smallest bin spacing; only reached by 1x1 maps, where every pixel is in every bin.
_MIN_STEP = 1e-6
# Floor of the profile variance: a flat profile stays flat instead of amplifying rounding noise.
_STD_EPS = 1e-4
# Keeps the pooled mean finite for bins that no pixel reaches (corners at oblique angles).
_EPS = 1e-6


def soft_bins(theta: torch.Tensor, *, height: int, width: int, bins: int, blur: float = 0.0) -> torch.Tensor:
    """Triangular assignment of the height*width pixels to `bins` bins along t.

    Args:
        theta: 0-d tensor, angle in radians.
        height, width: map size.
        bins: number of bins K.
        blur: 0 = triangles one bin spacing wide (the exact bins); 1 = triangles as wide as the
            map's whole t-range, so every profile is close to a linear ramp along t. In between,
            the half-width is interpolated linearly.

    Returns:
        (K, height*width) weights; at blur 0 every column sums to 1 (partition of unity).
    """
    dev, dt = theta.device, theta.dtype
    ys = torch.arange(height, device=dev, dtype=dt) - (height - 1) / 2
    xs = torch.arange(width, device=dev, dtype=dt) - (width - 1) / 2
    c, s = torch.cos(theta), torch.sin(theta)
    t = (xs[None, :] * c + ys[:, None] * s).reshape(-1)  # (H*W,)
    half = (width - 1) / 2 * c.abs() + (height - 1) / 2 * s.abs()  # largest |t| on the map
    step = (2 * half / max(bins - 1, 1)).clamp(min=_MIN_STEP)
    centres = -half + step * torch.arange(bins, device=dev, dtype=dt)  # (K,)
    reach = step + blur * (2 * half - step) if blur else step  # half-width of every triangle
    return (1 - (t[None, :] - centres[:, None]).abs() / reach).clamp(min=0)  # (K, H*W)


class SOA(nn.Module):
    """Single-orientation attention with a learnable (or fixed) angle.

    Args:
        channels: C of the input map.
        theta_init_deg: initial angle in degrees (90 = rows = CVA). A preset's random start is
            drawn once per model by the motion stream (network.py) and passed here.
        learn_theta: a trainable parameter if True, else a buffer fixed at theta_init_deg.
        bins: K; 0 means K = the input height.
        kernel_size: taps of the depthwise 1-D conv over the pooled profile.
    """

    def __init__(
        self,
        *,
        channels: int,
        theta_init_deg: float = 90.0,
        learn_theta: bool = True,
        bins: int = 0,
        kernel_size: int = 3,
    ):
        super().__init__()
        theta = torch.tensor(math.radians(theta_init_deg), dtype=torch.float32)
        if learn_theta:
            self.theta = nn.Parameter(theta)
        else:
            self.register_buffer("theta", theta)
        self.bins = bins
        # Set by the training engine's schedule (soa_blur in the preset); 0 = exact bins, always
        # the case after training.
        self.blur = 0.0
        self.conv = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)

    def profile(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Weighted mean of x in each bin along t: (B, C, K), and the assignment (K, H*W).

        The gate reads it, and so does the motion stream's profile readout (network.py).
        """
        B, C, H, W = x.shape
        w = soft_bins(self.theta, height=H, width=W, bins=self.bins or H, blur=self.blur)  # (K, H*W)
        if self.blur:
            w = w / w.sum(0, keepdim=True)  # wide triangles overlap: restore the partition of unity
        pool = w / (w.sum(dim=1, keepdim=True) + _EPS)  # rows sum to 1: weighted mean per bin
        # 2-D matmuls (B*C rows) rather than broadcast ones: one GEMM per fold under vmap.
        return (x.reshape(B * C, H * W) @ pool.T).view(B, C, -1), w

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The attention weights a in [0, 1], (B, C, H, W)."""
        B, C, H, W = x.shape
        profile, w = self.profile(x)  # (B, C, K), (K, H*W)
        a = torch.sigmoid(self.conv(standardise(profile)))  # (B, C, K)
        return (a.reshape(B * C, -1) @ w).view(B, C, H, W)  # linear interpolation of the gate along t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (1 + self.gate(x))

    def theta_deg(self) -> float:
        return theta_to_deg(self.theta)


def standardise(profile: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance along t, per sample and channel.

    A line mean dilutes a local motion patch by the line length; without this the gate sees an
    almost flat profile, stays almost constant, and the angle has nothing to act on.
    """
    mu = profile.mean(-1, keepdim=True)
    return (profile - mu) * torch.rsqrt(profile.var(-1, keepdim=True, correction=0) + _STD_EPS)


def theta_to_deg(theta: torch.Tensor) -> float:
    """An angle in radians as an orientation in degrees in [0, 180), to 1e-4 degree.

    The rounding hides float32's representation of pi/2, so CVA's fixed angle reads 90.0.
    """
    return round(math.degrees(float(theta.detach())) % 180.0, 4) % 180.0
