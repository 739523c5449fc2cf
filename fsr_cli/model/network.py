"""The dual-stream FaceSleuth-R network (motion stream with SOA, appearance stream FPF, fusion).

Layers in dependency order: a motion stage, the motion stream, an absent stream, the network.
A disabled part is an nn.Identity (SOA off) or an Absent stream (zero-width features), so
forward() never branches on the preset.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fsr_cli.errors import UsageError
from fsr_cli.model.config import ModelConfig
from fsr_cli.model.fpf import FPF
from fsr_cli.model.soa import SOA, theta_to_deg


def _norm(channels: int) -> nn.GroupNorm:
    # GroupNorm, not BatchNorm: no running statistics, so the fold-batched engine can vmap it.
    return nn.GroupNorm(min(4, channels), channels)


class Stage(nn.Module):
    """conv3x3 -> GroupNorm -> GELU -> SOA(theta_i) (or Identity)."""

    def __init__(self, *, c_in: int, c_out: int, soa: nn.Module):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = _norm(c_out)
        self.soa = soa

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.soa(F.gelu(self.norm(self.conv(x))))


def standardise_maps(x: torch.Tensor, *, median: bool = False) -> torch.Tensor:
    """Each sample's channels to zero mean (median: zero median) and unit std over the map:
    (B, C, H, W) -> same. The median leaves a local motion's own pixels out of the offset removed."""
    mu = x.flatten(2).median(-1).values[..., None, None] if median else x.mean((2, 3), keepdim=True)
    return (x - mu) * torch.rsqrt(x.var((2, 3), keepdim=True, correction=0) + 1e-6)


def _soa(cfg: ModelConfig, channels: int, start_deg: float) -> nn.Module:
    if cfg.soa == "none":
        return nn.Identity()
    fixed = cfg.soa == "fixed"
    return SOA(
        channels=channels,
        theta_init_deg=90.0 if fixed else start_deg,
        learn_theta=not fixed,
        bins=cfg.soa_bins,
        kernel_size=cfg.soa_kernel,
    )


def stage_sides(cfg: ModelConfig) -> list[int]:
    """Side of every motion stage's map: the unshuffled input, halved by each max-pool."""
    side, sides = cfg.flow_size // cfg.motion_unshuffle, []
    for i in range(len(cfg.motion_widths)):
        if 0 < i <= cfg.motion_pools:
            side = -(-side // 2)  # ceil_mode pooling
        sides.append(side)
    return sides


class MotionStream(nn.Module):
    """(u, v, strain) -> space-to-depth -> conv stages with SOA (max-pools between) -> readout.

    Readout "grid": the last map average-pooled to grid x grid (which facial region moved).
    Readout "profile": every stage's SOA profile, the map's mean in each bin along that layer's
    t = x cos(theta) + y sin(theta), concatenated. The classifier then sees the motion only
    through the learned orientations, so each angle has a direct effect on the loss; with the
    grid readout the angle only modulates a residual gate, the loss barely depends on it, and
    it stays where it starts (docs/model.md, "How the angle is learned").
    Readout "both": the profiles and the grid, concatenated.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.unshuffle = cfg.motion_unshuffle
        self.pools = cfg.motion_pools
        self.grid = cfg.grid
        self.readout = cfg.readout
        self.sample_norm = cfg.flow_norm in ("sample", "median")
        self.median = cfg.flow_norm == "median"
        widths = [3 * cfg.motion_unshuffle**2, *cfg.motion_widths]
        start = cfg.theta_init_deg
        if start is None:
            # One random orientation for every layer (uniform in [0, 180), from torch's generator,
            # which the engine seeds per fold): the layers start together (and with soa_tie, turn together
            # while the engine blurs the bins).
            start = float(torch.rand((), dtype=torch.float64)) * 180.0
        self.stages = nn.ModuleList(
            Stage(c_in=a, c_out=b, soa=_soa(cfg, b, start))
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.out_dim = widths[-1] * cfg.grid**2 if cfg.readout != "profile" else 0
        if cfg.readout != "grid":
            sides = stage_sides(cfg)
            bins = [cfg.soa_bins or side for side in sides]
            self.out_dim += sum(w * k for w, k in zip(cfg.motion_widths, bins, strict=True))

    def pooled(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """Stage i's input: x max-pooled when a pool precedes stage i."""
        return F.max_pool2d(x, 2, ceil_mode=True) if 0 < i <= self.pools else x

    def features(self, flow: torch.Tensor) -> list[torch.Tensor]:
        """The output map of every stage (after its SOA)."""
        if self.sample_norm:
            flow = standardise_maps(flow, median=self.median)
        x = F.pixel_unshuffle(flow, self.unshuffle)  # (B, 3*r*r, S/r, S/r): lossless, 4x fewer pixels
        maps = []
        for i, stage in enumerate(self.stages):
            x = stage(self.pooled(i, x))
            maps.append(x)
        return maps

    def forward(self, flow: torch.Tensor) -> torch.Tensor:
        maps = self.features(flow)
        parts = []
        if self.readout != "grid":
            profiles = [stage.soa.profile(m)[0] for stage, m in zip(self.stages, maps, strict=True)]
            parts += [p.flatten(1) for p in profiles]  # (B, sum C_i * K_i)
        if self.readout != "profile":
            # A grid pool, not a global one: which facial region moved is the class cue.
            parts.append(F.adaptive_avg_pool2d(maps[-1], self.grid).flatten(1))  # (B, C * grid * grid)
        return torch.cat(parts, dim=1)


class Absent(nn.Module):
    """A stream left out by the preset: zero-width features, so concatenation needs no branch."""

    out_dim = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[0], 0)


class FaceSleuthR(nn.Module):
    """forward(flow (B,3,S,S), app (B,1,A,A)) -> logits (B, n_classes)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.motion = MotionStream(cfg) if cfg.motion_stream else Absent()
        self.appearance = (
            FPF(
                size=cfg.app_size,
                dim=cfg.app_dim,
                patch=cfg.app_patch,
                window=cfg.app_window,
                heads=cfg.app_heads,
            )
            if cfg.appearance_stream
            else Absent()
        )
        self.proj_motion = _projection(self.motion.out_dim, cfg.fuse_dim)
        self.proj_app = _projection(self.appearance.out_dim, cfg.fuse_dim)
        fused = (cfg.fuse_dim if cfg.motion_stream else 0) + (cfg.fuse_dim if cfg.appearance_stream else 0)
        self.ln = nn.LayerNorm(fused)
        self.head = nn.Linear(fused, cfg.n_classes)

    def forward(self, flow: torch.Tensor, app: torch.Tensor) -> torch.Tensor:
        m = self.proj_motion(self.motion(flow))  # (B, fuse_dim) or (B, 0)
        a = self.proj_app(self.appearance(app))  # (B, fuse_dim) or (B, 0)
        return self.head(self.ln(torch.cat([m, a], dim=1)))  # (B, n_classes)

    def soa_layers(self) -> list[SOA]:
        return [m for m in self.modules() if isinstance(m, SOA)]

    def thetas_deg(self) -> list[float]:
        """Angle of every SOA layer in degrees, in [0, 180); empty without SOA."""
        return [theta_to_deg(m.theta) for m in self.soa_layers()]

    @torch.no_grad()
    def attention_maps(self, flow: torch.Tensor, app: torch.Tensor) -> list[torch.Tensor]:
        """SOA weights of every layer averaged over channels: list of (B, H_i, W_i) in [0, 1]."""
        if not isinstance(self.motion, MotionStream):
            return []
        if self.motion.sample_norm:
            flow = standardise_maps(flow, median=self.motion.median)
        maps, x = [], F.pixel_unshuffle(flow, self.motion.unshuffle)
        for i, stage in enumerate(self.motion.stages):
            h = F.gelu(stage.norm(stage.conv(self.motion.pooled(i, x))))
            if isinstance(stage.soa, SOA):
                maps.append(stage.soa.gate(h).mean(1))
            x = stage.soa(h)
        return maps


def set_soa_blur(model: nn.Module, blur: float) -> None:
    """Width of every SOA layer's soft bins (soa.soft_bins); 0 = the exact bins."""
    for m in model.modules():
        if isinstance(m, SOA):
            m.blur = float(blur)


def _projection(d_in: int, d_out: int) -> nn.Module:
    if d_in == 0:
        return nn.Identity()  # the Absent stream's (B, 0) passes through
    return nn.Sequential(nn.Linear(d_in, d_out), nn.GELU())


def build_model(cfg: ModelConfig) -> nn.Module:
    """The network a preset describes (random initialisation; seed torch before calling)."""
    if cfg.arch == "ststnet":
        from fsr_cli.model.ststnet import STSTNet

        return STSTNet(cfg)
    if cfg.arch == "facesleuth-r":
        return FaceSleuthR(cfg)
    from fsr_cli.model.plugins import build_plugin, is_plugin

    if is_plugin(cfg.arch):
        return build_plugin(cfg)
    raise UsageError(f"preset {cfg.name}: arch {cfg.arch!r} has no network (it is not trained by epochs)")


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
