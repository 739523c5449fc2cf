"""Facial Position Focaliser (FPF): the appearance stream of FaceSleuth (arXiv 2506.02695).

The aligned grey face is cut into patches; self-attention runs within windows of the patch grid
(local facial parts: an eye, a mouth corner), then across windows on one summary token per
window (how the parts relate). The output keeps one feature vector per window, in window order,
so the classifier knows *where* on the aligned face a cue lies. The paper's hierarchical
cross-window attention is kept to one level here: the inputs are small (28-48 px).
"""

from __future__ import annotations

import torch
from torch import nn


class Attention(nn.Module):
    """Multi-head self-attention over the second-to-last axis of (..., N, D)."""

    def __init__(self, *, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *lead, N, D = x.shape
        q, k, v = self.qkv(x).view(*lead, N, 3, self.heads, D // self.heads).unbind(-3)  # (..., N, nh, hs)
        q, k, v = (z.transpose(-2, -3) for z in (q, k, v))  # (..., nh, N, hs)
        # Written out rather than F.scaled_dot_product_attention, which has no vmap batching rule.
        att = (q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5).softmax(-1)  # (..., nh, N, N)
        y = att @ v  # (..., nh, N, hs)
        return self.proj(y.transpose(-2, -3).reshape(*lead, N, D))


class Block(nn.Module):
    """Pre-norm transformer block: attention + MLP, both residual."""

    def __init__(self, *, dim: int, heads: int, mlp_ratio: int = 2):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim=dim, heads=heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class FPF(nn.Module):
    """Window attention + cross-window attention over an aligned face.

    Args:
        size: input side A (a multiple of patch * window).
        dim: token width D.
        patch: patch side in pixels.
        window: window side in patches.
        heads: attention heads.

    Input (B, 1, A, A); output (B, n_windows * D) with n_windows = (A / (patch * window))^2.
    """

    def __init__(self, *, size: int, dim: int, patch: int, window: int, heads: int):
        super().__init__()
        self.window = window
        self.grid = size // patch  # patches per side
        self.n_windows = (self.grid // window) ** 2
        self.out_dim = self.n_windows * dim
        self.embed = nn.Conv2d(1, dim, patch, stride=patch)
        self.pos = nn.Parameter(torch.zeros(1, dim, self.grid, self.grid))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.local = Block(dim=dim, heads=heads)
        self.cross = Block(dim=dim, heads=heads)
        self.ln = nn.LayerNorm(dim)

    def forward(self, app: torch.Tensor) -> torch.Tensor:
        B = app.shape[0]
        # Per-image standardisation: contrast and brightness are identity, not expression.
        app = (app - app.mean((2, 3), keepdim=True)) / (app.std((2, 3), keepdim=True) + 1e-5)
        x = self.embed(app) + self.pos  # (B, D, g, g)
        D, g, w = x.shape[1], self.grid, self.window
        n = g // w
        x = x.view(B, D, n, w, n, w).permute(0, 2, 4, 3, 5, 1).reshape(B, n * n, w * w, D)  # (B, nW, w*w, D)
        x = self.local(x)  # attention within each window
        summary = self.cross(x.mean(2))  # (B, nW, D): attention across windows
        return self.ln(summary).reshape(B, self.out_dim)
