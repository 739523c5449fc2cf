"""The per-fold parts of a fit, whatever the fold batching (engine.py): a fold's seed and initial
weights, its normalisation statistics, the learning-rate and SOA-blur schedules, the loss weights
and floor, its minibatch stream, and the augmentation draws (translation, flow noise). Each fold
draws from its own stream only, so a fold trains the same alone or beside others.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import torch
from torch.nn import functional as F

from fsr_cli.model.config import ModelConfig, TrainRecipe
from fsr_cli.model.network import build_model


def fold_seed(seed: int, name: str) -> int:
    """A fold's own seed: stable across processes and chunkings (no Python hash randomisation)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "little") >> 1


def initial_model(cfg: ModelConfig, *, seed: int, name: str) -> torch.nn.Module:
    """Fold `name`'s model before training: its weights and angles depend on (seed, fold) only."""
    with torch.random.fork_rng():
        torch.manual_seed(fold_seed(seed, name))
        return build_model(cfg)


def fold_norm(flow: np.ndarray, app: np.ndarray, idx: np.ndarray) -> dict:
    """Per-channel mean/std over the given (training) samples, as lists (JSON- and pickle-friendly)."""

    def stats(x):
        x = x[idx].astype(np.float64)
        return x.mean(axis=(0, 2, 3)).tolist(), np.maximum(x.std(axis=(0, 2, 3)), 1e-6).tolist()

    (fm, fs), (am, as_) = stats(flow), stats(app)
    return {"flow_mean": fm, "flow_std": fs, "app_mean": am, "app_std": as_}


def normalise(flow: torch.Tensor, app: torch.Tensor, norm: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply one fold's statistics to (B, 3, S, S) flows and (B, 1, A, A) faces."""

    def z(x, m, s):
        m, s = (torch.tensor(v, device=x.device).view(1, -1, 1, 1) for v in (m, s))
        return (x - m) / s

    return z(flow, norm["flow_mean"], norm["flow_std"]), z(app, norm["app_mean"], norm["app_std"])


def lr_factor(epoch_frac: float, *, epochs: int, warmup: int) -> float:
    """Linear warm-up then cosine decay to zero, as a function of the fold's own progress."""
    warm = min(1.0, epoch_frac / warmup) if warmup > 0 else 1.0
    return warm * 0.5 * (1 + math.cos(math.pi * min(epoch_frac / epochs, 1.0)))


def loss_floor(cfg: ModelConfig, fit: TrainRecipe) -> float:
    """Smallest label-smoothed cross entropy: the entropy of the smoothed one-hot target."""
    eps, k = fit.label_smoothing, cfg.n_classes
    probs = [1 - eps + eps / k] + [eps / k] * (k - 1)
    return float(-sum(p * math.log(p) for p in probs if p > 0))


def soa_blur_at(cfg: ModelConfig, epoch: int, *, epochs: int) -> float:
    """Width of the SOA soft bins during `epoch` (0-based): cfg.soa_blur falling linearly to 0.

    The blurred epochs are the first soa_blur_frac of the run, never the last one, so the model
    that is saved and evaluated was last trained with the exact bins it predicts with.
    """
    blurred = min(int(cfg.soa_blur_frac * epochs), epochs - 1)
    return cfg.soa_blur * (1.0 - epoch / blurred) if epoch < blurred else 0.0


def sample_weights(cfg: ModelConfig, fit: TrainRecipe, y: np.ndarray, train_idx: np.ndarray) -> np.ndarray:
    """Every sample's loss weight in a fold, from the fold's training samples: (N,).

    class_balance: n / (K n_c), n_c the training samples of the sample's class (inverse
    frequency: balanced accuracy's weighting). Without it every sample weighs 1."""
    if not fit.class_balance:
        return np.ones(len(y))
    counts = np.bincount(y[train_idx], minlength=cfg.n_classes)
    inverse = len(train_idx) / (cfg.n_classes * np.maximum(counts, 1))
    return np.where(counts > 0, inverse, 0.0)[y]


class IndexStream:
    """Endless minibatch indices of one fold: consecutive random permutations of its train set."""

    def __init__(self, idx: np.ndarray, rng: np.random.Generator):
        self.idx, self.rng, self.buf = np.asarray(idx), rng, np.empty(0, dtype=np.int64)

    def take(self, n: int) -> np.ndarray:
        while len(self.buf) < n:
            self.buf = np.concatenate([self.buf, self.rng.permutation(self.idx)])
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def shift_images(x: torch.Tensor, offsets: torch.Tensor, pad: int) -> torch.Tensor:
    """Translate each image of (N, C, H, W) by its own (dy, dx) in [-pad, pad], zero fill."""
    N, C, H, W = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    out = torch.empty_like(x)
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            sel = ((offsets[:, 0] == dy) & (offsets[:, 1] == dx)).nonzero().squeeze(1)
            out[sel] = xp[sel, :, pad + dy : pad + dy + H, pad + dx : pad + dx + W]
    return out


def fold_noise(streams: list, on: np.ndarray, shape: tuple) -> torch.Tensor:
    """Standard normal noise (F, *shape), each active fold's from its own stream, zeros elsewhere.

    Like the shift augmentation, only active folds draw, so a fold's noise does not depend on
    the other folds of its chunk (a fold trained alone sees the same noise).
    """
    out = torch.zeros((len(on), *shape))
    for f in np.flatnonzero(on):
        gen = torch.Generator().manual_seed(int(streams[f].rng.integers(1 << 62)))
        out[f] = torch.randn(shape, generator=gen)
    return out
