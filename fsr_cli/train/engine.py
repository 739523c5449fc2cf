"""Fold-batched training: every fold of a LOSO/LODO protocol trains at once, as one program.

The F fold models are stacked (torch.func.stack_module_state) and run with
torch.func.functional_call under torch.vmap over the fold axis; the per-fold losses are summed
and back-propagated once. Folds stay independent because (1) each fold's loss only touches its
own parameter slice, (2) AdamW is elementwise (no global-norm clipping, which would couple
folds), and (3) each fold draws its minibatches, augmentation and initial weights from its own
RNG seeded by (seed, fold name). A fold therefore trains the same whether it runs with all
others, in a smaller chunk, or in another process (up to float rounding of batched kernels).

An epoch of fold f is ceil(n_train_f / batch_size) steps; folds with fewer steps sit out the
remaining steps of the epoch (masked loss and masked update), so a chunk's composition never
changes a fold's schedule. Normalisation (per-channel mean/std) uses each fold's training
samples only.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
from torch.func import functional_call, stack_module_state
from torch.nn import functional as F

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.model.config import ModelConfig
from fsr_cli.model.network import build_model, mirror_flow, set_soa_blur
from fsr_cli.model.soa import theta_to_deg

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
# Folds trained together per chunk: F * batch * flow_size^2 stays under this. Beyond ~2k samples
# of 28x28 per step the activations fall out of cache and a step costs more per sample.
FOLD_PIXEL_BUDGET = 1_800_000
EVAL_BATCH = 256


@dataclass(frozen=True)
class FitConfig:
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int
    record_test_each_epoch: bool = False  # needed by --select test-oracle (leakage) and for curves

    @classmethod
    def from_model(cls, cfg: ModelConfig, *, seed: int, **overrides) -> FitConfig:
        """The preset's training defaults, with overrides (e.g. epochs=10)."""
        base = dict(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay)
        return cls(seed=seed, **{**base, **overrides})


@dataclass(frozen=True, eq=False)
class Fold:
    name: str  # e.g. "casme2/01" (LOSO) or "samm" (LODO)
    train_idx: np.ndarray  # indices into the arrays given to fit_folds
    test_idx: np.ndarray
    # inner validation samples (--select inner-val): held out of training, scored every epoch
    val_idx: np.ndarray | None = None


@dataclass
class FoldResult:
    name: str
    state_dict: dict  # ordinary per-fold nn.Module state_dict (CPU)
    norm: dict  # per-channel mean/std of this fold's TRAIN samples
    history: list[dict]  # per epoch: epoch, loss, train_acc, theta_deg (+ test_acc when recorded)
    test_probs: np.ndarray  # (n_test, n_classes) after the last epoch
    test_probs_each_epoch: np.ndarray | None = field(default=None)  # (epochs, n_test, n_classes)
    val_probs_each_epoch: np.ndarray | None = field(default=None)  # (epochs, n_val, n_classes)


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


def loss_floor(cfg: ModelConfig) -> float:
    """Smallest label-smoothed cross entropy: the entropy of the smoothed one-hot target."""
    eps, k = cfg.label_smoothing, cfg.n_classes
    probs = [1 - eps + eps / k] + [eps / k] * (k - 1)
    return float(-sum(p * math.log(p) for p in probs if p > 0))


def soa_blur_at(cfg: ModelConfig, epoch: int, *, epochs: int) -> float:
    """Width of the SOA soft bins during `epoch` (0-based): cfg.soa_blur falling linearly to 0.

    The blurred epochs are the first soa_blur_frac of the run, never the last one, so the model
    that is saved and evaluated was last trained with the exact bins it predicts with.
    """
    blurred = min(int(cfg.soa_blur_frac * epochs), epochs - 1)
    return cfg.soa_blur * (1.0 - epoch / blurred) if epoch < blurred else 0.0


def sample_weights(cfg: ModelConfig, y: np.ndarray, domain: np.ndarray, train_idx: np.ndarray) -> np.ndarray:
    """Every sample's loss weight in a fold, from the fold's training samples: (N,).

    class_balance: (n / (K n_c)) ** class_balance_power, n_c the training samples of the
    sample's class. balance_datasets: the same per (dataset, class) cell, n / (K D n_dc) with
    D the datasets in training, so each dataset weighs as much as the others and its classes
    alike. Without class_balance every sample weighs 1."""
    K = cfg.n_classes
    if not cfg.class_balance:
        return np.ones(len(y))
    domain = np.unique(domain, return_inverse=True)[1]  # any labels -> 0..D-1
    cell = y + K * (domain if cfg.balance_datasets else np.zeros_like(domain))
    counts = np.bincount(cell[train_idx], minlength=int(cell.max()) + 1)
    n_domains = len(np.unique(domain[train_idx])) if cfg.balance_datasets else 1
    inverse = len(train_idx) / (K * n_domains * np.maximum(counts, 1))
    return np.where(counts > 0, inverse**cfg.class_balance_power, 0.0)[cell]


def _domain_weights(domain: np.ndarray, train_idx: np.ndarray) -> np.ndarray:
    """Every sample's weight in a fold's domain loss: n / (D n_d) from the fold's training
    samples, so each training dataset counts alike. (N,)"""
    counts = np.bincount(domain[train_idx], minlength=int(domain.max()) + 1)
    used = int((counts > 0).sum())
    return np.where(counts > 0, len(train_idx) / (used * np.maximum(counts, 1)), 0.0)[domain]


def _check_inputs(cfg: ModelConfig, flow, app, y, folds, domain=None):
    if flow.ndim != 4 or flow.shape[1:] != (3, cfg.flow_size, cfg.flow_size):
        raise UsageError(
            f"flow has shape {flow.shape}; the model wants (N, 3, {cfg.flow_size}, {cfg.flow_size})"
        )
    if app.ndim != 4 or app.shape[1:] != (1, cfg.app_size, cfg.app_size):
        raise UsageError(f"app has shape {app.shape}; the model wants (N, 1, {cfg.app_size}, {cfg.app_size})")
    if not (len(flow) == len(app) == len(y)):
        raise UsageError(f"flow, app and y have {len(flow)}, {len(app)}, {len(y)} samples; they must match")
    if cfg.domain_adv > 0 and domain is not None and len(np.unique(domain)) > cfg.n_domains:
        raise UsageError(
            f"domain_adv: the data hold {len(np.unique(domain))} datasets, more than n_domains "
            f"{cfg.n_domains}; set n_domains: {len(np.unique(domain))} in the preset"
        )
    if len(y) and (y.min() < 0 or y.max() >= cfg.n_classes):
        raise UsageError(f"labels must lie in [0, {cfg.n_classes}); got {y.min()}..{y.max()}")
    for f in folds:
        if len(f.train_idx) == 0:
            raise UsageError(f"fold {f.name}: no training samples")


class _IndexStream:
    """Endless minibatch indices of one fold: consecutive random permutations of its train set."""

    def __init__(self, idx: np.ndarray, rng: np.random.Generator):
        self.idx, self.rng, self.buf = np.asarray(idx), rng, np.empty(0, dtype=np.int64)

    def take(self, n: int) -> np.ndarray:
        while len(self.buf) < n:
            self.buf = np.concatenate([self.buf, self.rng.permutation(self.idx)])
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def _shift(x: torch.Tensor, offsets: torch.Tensor, pad: int) -> torch.Tensor:
    """Translate each image of (N, C, H, W) by its own (dy, dx) in [-pad, pad], zero fill."""
    N, C, H, W = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    out = torch.empty_like(x)
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            sel = ((offsets[:, 0] == dy) & (offsets[:, 1] == dx)).nonzero().squeeze(1)
            out[sel] = xp[sel, :, pad + dy : pad + dy + H, pad + dx : pad + dx + W]
    return out


class _Folds:
    """F folds stacked for one program: parameters, AdamW state, statistics and RNG streams."""

    def __init__(
        self, cfg: ModelConfig, fit: FitConfig, folds: list[Fold], flow, app, y, domain, device="cpu"
    ):
        self.cfg, self.fit, self.folds, self.device = cfg, fit, folds, torch.device(device)
        seeds = [fold_seed(fit.seed, f.name) for f in folds]
        # initial weights drawn on the CPU (the same on every device), then moved
        models = [initial_model(cfg, seed=fit.seed, name=f.name).to(self.device) for f in folds]
        self.params, self.buffers = stack_module_state(models)
        self.template = copy.deepcopy(models[0]).to("meta")
        # every layer's angle (reported), and those that train (theta_lr_mult, soa_tie)
        self.theta_names = [n for n in [*self.params, *self.buffers] if n.endswith("soa.theta")]
        self.learned_thetas = [n for n in self.theta_names if n in self.params]
        self.norms = [fold_norm(flow, app, f.train_idx) for f in folds]
        self.stat = {
            k: torch.tensor([n[k] for n in self.norms], dtype=torch.float32, device=self.device)
            for k in self.norms[0]
        }
        self.streams = [
            _IndexStream(f.train_idx, np.random.default_rng(s)) for f, s in zip(folds, seeds, strict=True)
        ]
        self.steps = [math.ceil(len(f.train_idx) / fit.batch_size) for f in folds]
        self.sample_w = torch.tensor(
            np.stack([sample_weights(cfg, y, domain, f.train_idx) for f in folds]),
            dtype=torch.float32,
            device=self.device,
        )  # (F, N): every sample's loss weight in each fold
        if cfg.domain_adv > 0:
            self.domain_t = torch.as_tensor(domain, dtype=torch.int64, device=self.device)
            self.domain_w = torch.tensor(
                np.stack([_domain_weights(domain, f.train_idx) for f in folds]),
                dtype=torch.float32,
                device=self.device,
            )  # (F, N)
        self.m = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.v = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.t = torch.zeros(len(folds), device=self.device)
        self.noisy = cfg.flow_noise > 0 or cfg.flow_noise_margin > 0
        self.noise_std = np.full(len(folds), float(cfg.flow_noise))  # per fold; adapted by adapt_noise
        self.swa, self.swa_n = {}, 0  # running mean of the weights (average_weights)

    def adapt_noise(self, loss: np.ndarray) -> None:
        """After an epoch: raise a fold's flow noise while its training loss sits near the floor."""
        cfg = self.cfg
        if cfg.flow_noise_margin > 0:
            near = loss < loss_floor(cfg) + cfg.flow_noise_margin
            self.noise_std = np.maximum(0.0, self.noise_std + np.where(near, 1.0, -1.0) * cfg.flow_noise_step)

    def tie_thetas(self, grads: dict) -> None:
        """Give every layer's angle the mean of the layers' gradients (per fold): they turn as one."""
        if len(self.learned_thetas) > 1:
            mean = torch.stack([grads[n] for n in self.learned_thetas]).mean(0)
            grads.update({n: mean for n in self.learned_thetas})

    def to_device(self, x) -> torch.Tensor:
        """A CPU-made tensor or array (indices, masks, draws) on this chunk's device."""
        return torch.as_tensor(x).to(self.device, non_blocking=True)

    def normalised(self, flow_t, app_t, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gather (F, B) sample indices, each fold with its own train statistics."""
        s, idx = self.stat, idx.to(self.device)
        fl = (flow_t[idx] - s["flow_mean"][:, None, :, None, None]) / s["flow_std"][:, None, :, None, None]
        ap = (app_t[idx] - s["app_mean"][:, None, :, None, None]) / s["app_std"][:, None, :, None, None]
        return fl, ap  # (F, B, 3, S, S), (F, B, 1, A, A)

    def flip(self, flow_b, app_b, on: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Mirror a random half of each active fold's normalised batch left-right.

        A mirrored face moves the same way with u negated: raw u -> -u, which in a fold's
        normalised units is -u_n - 2 mean/std.
        """
        F_, B = flow_b.shape[:2]
        draws = [self.streams[f].rng.random(B) < 0.5 if on[f] else np.zeros(B, dtype=bool) for f in range(F_)]
        sel = self.to_device(np.stack(draws)).view(F_, B, 1, 1, 1)
        mirrored = mirror_flow(flow_b)
        shift = (2 * self.stat["flow_mean"][:, 0] / self.stat["flow_std"][:, 0]).view(F_, 1, 1, 1)
        mirrored[:, :, 0] -= shift
        return torch.where(sel, mirrored, flow_b), torch.where(sel, app_b.flip(-1), app_b)

    def blank_faces(self, app_b, on: np.ndarray) -> torch.Tensor:
        """Zero the apex face of a random app_drop fraction of each active fold's batch."""
        F_, B = app_b.shape[:2]
        draws = [
            self.streams[f].rng.random(B) < self.cfg.app_drop if on[f] else np.zeros(B, dtype=bool)
            for f in range(F_)
        ]
        sel = self.to_device(np.stack(draws)).view(F_, B, 1, 1, 1)
        return torch.where(sel, torch.zeros_like(app_b), app_b)

    def cut_out(self, flow_b, on: np.ndarray) -> torch.Tensor:
        """Blank a random cutout x cutout square of the flow (all three maps) of a random
        cutout_p fraction of each active fold's batch; the square's centre is uniform over the
        map, so it may stick out of it (DeVries & Taylor 2017)."""
        F_, B, _, H, W = flow_b.shape
        c, keep = self.cfg.cutout, np.ones((F_, B, 1, H, W), dtype=bool)
        ys, xs = np.arange(H)[:, None], np.arange(W)[None, :]
        for f in np.flatnonzero(on):
            rng = self.streams[f].rng
            hit, cy, cx = rng.random(B) < self.cfg.cutout_p, rng.integers(0, H, B), rng.integers(0, W, B)
            for b in np.flatnonzero(hit):
                y0, x0 = cy[b] - c // 2, cx[b] - c // 2
                keep[f, b, 0] = ~((ys >= y0) & (ys < y0 + c) & (xs >= x0) & (xs < x0 + c))
        return flow_b * self.to_device(keep)

    def warp(self, flow_b, on: np.ndarray) -> torch.Tensor:
        """Rotate each active fold's training flow by a random angle in [-rot_aug, rot_aug] degrees
        and scale it by a random factor in [1 - scale_aug, 1 + scale_aug] about the map's centre.

        The motion vectors turn with the face: (u, v) is rotated by the same angle, in raw flow
        units (the fold's normalisation undone, then redone), so a rotated face moves as the
        original would have; strain is a scalar field and is only resampled."""
        F_, B, C, H, W = flow_b.shape
        ang, scl = np.zeros((F_, B)), np.ones((F_, B))
        for f in np.flatnonzero(on):
            rng = self.streams[f].rng
            ang[f] = np.deg2rad(rng.uniform(-self.cfg.rot_aug, self.cfg.rot_aug, B))
            scl[f] = rng.uniform(1 - self.cfg.scale_aug, 1 + self.cfg.scale_aug, B)
        a, k = self.to_device(ang).float(), self.to_device(scl).float()
        cos, sin = torch.cos(a), torch.sin(a)
        # output pixel p samples the input at R(-a) p / k (image y down, as the flow's v)
        theta = torch.stack(
            [
                torch.stack([cos / k, sin / k, torch.zeros_like(a)], -1),
                torch.stack([-sin / k, cos / k, torch.zeros_like(a)], -1),
            ],
            -2,
        )  # (F, B, 2, 3)
        m = self.stat["flow_mean"].view(F_, 1, C, 1, 1)
        sd = self.stat["flow_std"].view(F_, 1, C, 1, 1)
        raw = (flow_b * sd + m).flatten(0, 1)
        grid = F.affine_grid(theta.flatten(0, 1), list(raw.shape), align_corners=False)
        out = F.grid_sample(raw, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        out = out.view(F_, B, C, H, W)
        u, v = out[:, :, 0], out[:, :, 1]
        cs, sn = cos.view(F_, B, 1, 1), sin.view(F_, B, 1, 1)
        # the vector field turns by +a: (u, v) -> R(a) (u, v), R(a) = [[cos, -sin], [sin, cos]]
        out = torch.stack([cs * u - sn * v, sn * u + cs * v, out[:, :, 2]], 2)
        return (out - m) / sd

    def forward(self, flow_b, app_b, keep=None, adv=None):
        """Every fold's logits (F, B, n_classes); keep: (F, B, fused) dropout scales of the
        fused features (training with head_dropout), None at evaluation; adv: (F,) gradient
        reversal strengths (training with domain_adv), which adds every fold's domain logits
        (F, B, n_domains) to the return."""
        names = [n for n, v in (("keep", keep), ("adv", adv)) if v is not None]
        extra = [v for v in (keep, adv) if v is not None]

        def one(p, b, x, a, *more):
            return functional_call(self.template, (p, b), (x, a), dict(zip(names, more, strict=True)))

        return torch.vmap(one)(self.params, self.buffers, flow_b, app_b, *extra)

    def domain_loss(self, domain_logits, idx_b, active) -> torch.Tensor:
        """Per-fold cross entropy of the domain head on the batch's datasets, each training
        dataset of the fold weighted alike; zero for folds sitting out. (F,)"""
        d_b, w_b = self.domain_t[idx_b], torch.gather(self.domain_w, 1, idx_b)
        per = F.cross_entropy(domain_logits.flatten(0, 1), d_b.flatten(), reduction="none").view(d_b.shape)
        return (per * w_b).sum(1) / w_b.sum(1).clamp(min=1e-8) * active

    def adversary_strength(self, epoch_frac: np.ndarray) -> torch.Tensor:
        """Gradient reversal strength per fold: domain_adv (2 / (1 + exp(-10 p)) - 1) at the
        fold's progress p in [0, 1] (Ganin & Lempitsky's schedule)."""
        p = np.clip(epoch_frac / self.fit.epochs, 0.0, 1.0)
        return self.to_device(self.cfg.domain_adv * (2.0 / (1.0 + np.exp(-10.0 * p)) - 1.0)).float()

    def dropout_scales(self, on: np.ndarray, batch: int) -> torch.Tensor:
        """Inverted-dropout scales of the fused features (F, B, fused): each active fold's drawn
        from its own stream (0 with probability head_dropout, else 1 / (1 - head_dropout)),
        ones for folds sitting out."""
        p, width = self.cfg.head_dropout, self.template.head.in_features
        keep = np.ones((len(on), batch, width), dtype=np.float32)
        for f in np.flatnonzero(on):
            keep[f] = (self.streams[f].rng.random((batch, width)) >= p) / (1 - p)
        return self.to_device(keep)

    def loss(self, logits, y_b, w_b, active, mix=None, focal: bool = True) -> torch.Tensor:
        """Per-fold class-weighted, label-smoothed cross entropy (focal with focal_gamma), zero for
        folds sitting out. (F,)

        w_b: (F, B) the samples' weights (sample_weights). mix: (y2, w2, lam) of mixup: each
        sample's loss is lam * its own label's + (1 - lam) * its partner's label's (y2, w2:
        (F, B), lam: (F,)), weights mixed alike. focal=False: the plain cross entropy (what is
        reported and compared with loss_floor), whatever focal_gamma.
        """
        K, eps = self.cfg.n_classes, self.cfg.label_smoothing
        logp = logits.log_softmax(-1)  # (F, B, K)

        gamma = self.cfg.focal_gamma if focal else 0.0
        focus = (1 - logp.exp()) ** gamma if gamma > 0 else 1.0

        def ce(y):
            q = F.one_hot(y, K).float() * (1 - eps) + eps / K
            return -(q * focus * logp).sum(-1)  # (F, B)

        per, w = ce(y_b), w_b
        num, den = per * w, w
        if mix is not None:
            y2, w2, lam = mix
            per2 = ce(y2)
            lam = lam.view(-1, 1)
            num, den = lam * num + (1 - lam) * per2 * w2, lam * den + (1 - lam) * w2
        return num.sum(1) / den.sum(1).clamp(min=1e-8) * active

    def sharpness_aware(self, grads: dict, active: torch.Tensor, objective: Callable) -> dict:
        """SAM's gradient: the gradient of the same batch's loss at the weights moved sam_rho
        along each active fold's own gradient, normalised over that fold's parameters alone (a
        global norm would couple the folds); the weights are then put back. objective() gives
        (the per-fold losses minimised, ...) at the current weights."""
        with torch.no_grad():
            sq = sum((g.reshape(len(g), -1).double() ** 2).sum(1) for g in grads.values())  # (F,)
            scale = (self.cfg.sam_rho / (sq.sqrt() + 1e-12)).float() * active
            eps = {k: g * scale.view((-1,) + (1,) * (g.dim() - 1)) for k, g in grads.items()}
            for k, p in self.params.items():
                p.add_(eps[k])
        losses = objective()[0]
        params = list(self.params.values())
        at = dict(zip(self.params, torch.autograd.grad(losses.sum(), params), strict=True))
        with torch.no_grad():
            for k, p in self.params.items():
                p.sub_(eps[k])
        return at

    @torch.no_grad()
    def adamw(self, grads: dict, lrs: torch.Tensor, active: torch.Tensor) -> None:
        """One elementwise AdamW step per fold; folds sitting out keep parameters and state."""
        b1, b2 = ADAM_BETAS
        self.t += active
        bc1, bc2 = 1 - b1 ** self.t.clamp(min=1), 1 - b2 ** self.t.clamp(min=1)
        for k, p in self.params.items():
            shape = (-1,) + (1,) * (p.dim() - 1)
            on = active.view(shape).bool()
            g = grads[k]
            m = torch.where(on, b1 * self.m[k] + (1 - b1) * g, self.m[k])
            v = torch.where(on, b2 * self.v[k] + (1 - b2) * g * g, self.v[k])
            self.m[k], self.v[k] = m, v
            theta = k in self.learned_thetas
            lr = (lrs * (self.cfg.theta_lr_mult if theta else 1.0)).view(shape)
            step = lr * (m / bc1.view(shape)) / ((v / bc2.view(shape)).sqrt() + ADAM_EPS)
            # p is stacked (F, ...): dim > 2 means a matrix or kernel per fold; no decay on biases,
            # norms, angles and position embeddings.
            decays = p.dim() > 2 and not theta and not k.endswith("pos")
            if decays:
                step = step + lr * self.fit.weight_decay * p
            p.copy_(torch.where(on, p - step, p))

    @torch.no_grad()
    def average_weights(self, *, last: bool) -> None:
        """Add the weights to a running mean (ModelConfig.swa_epochs); on the last epoch put the
        mean in their place, so the model that is evaluated and saved is the average."""
        self.swa_n += 1
        if self.swa_n == 1:
            self.swa = {k: v.clone() for k, v in self.params.items()}
        else:
            for k, v in self.params.items():
                self.swa[k] += (v - self.swa[k]) / self.swa_n
        if last:
            for k, v in self.params.items():
                v.copy_(self.swa[k])

    def thetas(self, f: int) -> list[float]:
        return [theta_to_deg({**self.params, **self.buffers}[n][f]) for n in self.theta_names]

    def state_dict(self, f: int) -> dict:
        return {k: v[f].detach().cpu().clone() for k, v in {**self.params, **self.buffers}.items()}

    @torch.no_grad()
    def predict(self, flow_t, app_t, part: str = "test") -> list[np.ndarray]:
        """Softmax probabilities of every fold on its own test (or inner validation) samples."""
        tests = [np.asarray(getattr(f, f"{part}_idx"), dtype=np.int64) for f in self.folds]
        T = max((len(t) for t in tests), default=0)
        out = np.zeros((len(tests), T, self.cfg.n_classes), dtype=np.float32)
        pad = np.stack([np.pad(t, (0, T - len(t))) for t in tests]) if T else np.zeros((len(tests), 0), int)
        self.template.eval()  # the networks' evaluation behaviour (ModelConfig.tta_shift)
        try:
            for lo in range(0, T, EVAL_BATCH):
                idx = torch.from_numpy(pad[:, lo : lo + EVAL_BATCH])
                out[:, lo : lo + EVAL_BATCH] = (
                    self.forward(*self.normalised(flow_t, app_t, idx)).softmax(-1).cpu().numpy()
                )
        finally:
            self.template.train()
        return [out[i, : len(t)] for i, t in enumerate(tests)]


def _fold_noise(st: _Folds, on: np.ndarray, shape: tuple) -> torch.Tensor:
    """Standard normal noise (F, *shape), each active fold's from its own stream, zeros elsewhere.

    Like the shift augmentation, only active folds draw, so a fold's noise does not depend on
    the other folds of its chunk (a fold trained alone sees the same noise).
    """
    out = torch.zeros((len(on), *shape))
    for f in np.flatnonzero(on):
        gen = torch.Generator().manual_seed(int(st.streams[f].rng.integers(1 << 62)))
        out[f] = torch.randn(shape, generator=gen)
    return out


def _mixup(st: _Folds, flow_b, app_b, y_b, w_b, on: np.ndarray):
    """Mix each active fold's batch with a permutation of itself: x = lam x + (1 - lam) x[perm].

    lam ~ Beta(mixup, mixup), one per fold and step, drawn (like the permutation) from the fold's
    own stream, and only by active folds; folds sitting out get lam 1 (their batch unchanged).
    Returns the mixed flow and faces and (y[perm], w[perm], lam) for the loss.
    """
    F_, B = flow_b.shape[:2]
    a = st.cfg.mixup
    lams, perms = np.ones(F_), np.tile(np.arange(B), (F_, 1))
    for f in np.flatnonzero(on):
        lams[f], perms[f] = st.streams[f].rng.beta(a, a), st.streams[f].rng.permutation(B)
    rows, perm = st.to_device(np.arange(F_))[:, None], st.to_device(perms)
    lam = st.to_device(lams).float()

    def mixed(x):
        shape = (-1,) + (1,) * (x.dim() - 1)
        return lam.view(shape) * x + (1 - lam.view(shape)) * x[rows, perm]

    return mixed(flow_b), mixed(app_b), (y_b[rows, perm], w_b[rows, perm], lam)


def _objective(st: _Folds, flow_b, app_b, y_b, w_b, active, mix, keep, adv, idx_b):
    """One step's (what is minimised, the plain classification loss, the logits), each per fold:
    the classification loss (focal under focal_gamma), plus the domain head's under domain_adv
    (adv: the reversal strengths)."""
    out = st.forward(flow_b, app_b, keep, adv)
    logits = out[0] if adv is not None else out
    total = st.loss(logits, y_b, w_b, active, mix)  # (F,)
    if adv is not None:
        total = total + st.domain_loss(out[1], idx_b, active)
    if st.cfg.focal_gamma > 0 or adv is not None:
        with torch.no_grad():  # the plain classification loss: reported, and read by adapt_noise
            cls = st.loss(logits, y_b, w_b, active, mix, focal=False)
    else:
        cls = total
    return total, cls, logits


def _epoch(st: _Folds, flow_t, app_t, y_t, epoch: int, *, tied: bool) -> tuple[np.ndarray, np.ndarray]:
    """Train every fold for one of its epochs; returns per-fold mean loss and train accuracy.

    tied: the layers' angles move together this epoch (ModelConfig.soa_tie, blurred epochs).
    """
    fit, cfg, n = st.fit, st.cfg, len(st.folds)
    loss_sum, correct, seen = np.zeros(n), np.zeros(n), np.zeros(n)
    for j in range(max(st.steps)):
        on = np.array([j < s for s in st.steps])
        idx = np.stack(
            [
                st.streams[f].take(fit.batch_size) if on[f] else st.streams[f].idx[:1].repeat(fit.batch_size)
                for f in range(n)
            ]
        )
        idx_t = torch.from_numpy(idx)
        flow_b, app_b = st.normalised(flow_t, app_t, idx_t)
        if cfg.shift_aug:
            # Only active folds draw: a fold's RNG use must not depend on the others in its chunk.
            offs = [
                st.streams[f].rng.integers(-cfg.shift_aug, cfg.shift_aug + 1, (fit.batch_size, 2))
                if on[f]
                else np.zeros((fit.batch_size, 2), dtype=np.int64)
                for f in range(n)
            ]
            offs = st.to_device(np.concatenate(offs))
            flow_b = _shift(flow_b.flatten(0, 1), offs, cfg.shift_aug).view(flow_b.shape)
        if cfg.rot_aug > 0 or cfg.scale_aug > 0:
            flow_b = st.warp(flow_b, on)
        if cfg.cutout > 0:
            flow_b = st.cut_out(flow_b, on)
        if cfg.flip_aug:
            flow_b, app_b = st.flip(flow_b, app_b, on)
        if cfg.app_drop > 0:
            app_b = st.blank_faces(app_b, on)
        if st.noisy:  # drawn even at std 0, so a fold's random stream does not depend on its losses
            std = st.to_device(st.noise_std).float().view(-1, 1, 1, 1, 1)
            flow_b = flow_b + std * st.to_device(_fold_noise(st, on, flow_b.shape[1:]))
        y_b, active = y_t[idx_t.to(st.device)], st.to_device(on).float()
        w_b = torch.gather(st.sample_w, 1, idx_t.to(st.device))
        mix = None
        if cfg.mixup > 0:
            flow_b, app_b, mix = _mixup(st, flow_b, app_b, y_b, w_b, on)
        keep = st.dropout_scales(on, fit.batch_size) if cfg.head_dropout > 0 else None
        adv = None
        if cfg.domain_adv > 0:
            adv = st.adversary_strength(np.array([epoch + j / s for s in st.steps]))
        batch = (flow_b, app_b, y_b, w_b, active, mix, keep, adv, idx_t.to(st.device))
        objective = partial(_objective, st, *batch)
        total, losses, logits = objective()
        grads = dict(zip(st.params, torch.autograd.grad(total.sum(), list(st.params.values())), strict=True))
        if cfg.sam_rho > 0:
            grads = st.sharpness_aware(grads, active, objective)
        if tied:
            st.tie_thetas(grads)
        lrs = st.to_device(
            [fit.lr * lr_factor(epoch + j / s, epochs=fit.epochs, warmup=cfg.warmup_epochs) for s in st.steps]
        )
        st.adamw(grads, lrs, active)
        loss_sum += losses.detach().cpu().numpy()
        correct += ((logits.argmax(-1) == y_b).sum(1).cpu().numpy()) * on
        seen += fit.batch_size * on
    return loss_sum / np.array(st.steps), correct / seen


class NonFiniteLoss(FsrError):
    """A fold's loss turned NaN or inf: the run stops instead of scoring NaN probabilities."""


def _train_chunk(cfg, fit, flow, app, y, domain, folds, tick, device="cpu") -> list[FoldResult]:
    flow_t, app_t, y_t = (torch.from_numpy(a).to(device) for a in (flow, app, y))
    has_val = any(f.val_idx is not None and len(f.val_idx) for f in folds)
    if has_val:
        folds = [
            f if f.val_idx is not None else Fold(f.name, f.train_idx, f.test_idx, f.test_idx[:0])
            for f in folds
        ]
    st = _Folds(cfg, fit, folds, flow, app, y, domain, device)
    histories = [[] for _ in folds]
    per_epoch, val_epoch = [], []
    for epoch in range(fit.epochs):
        # the template is every fold's module structure under vmap, so this sets all folds' bins
        blur = soa_blur_at(cfg, epoch, epochs=fit.epochs)
        set_soa_blur(st.template, blur)
        loss, acc = _epoch(st, flow_t, app_t, y_t, epoch, tied=cfg.soa_tie and blur > 0)
        if not np.isfinite(loss).all():
            bad = folds[int(np.flatnonzero(~np.isfinite(loss))[0])].name
            raise NonFiniteLoss(
                f"fold {bad}: the training loss became {loss[~np.isfinite(loss)][0]} at epoch {epoch + 1}; "
                "nothing of it would be worth scoring: lower the learning rate (lr) or check the inputs"
            )
        if epoch >= fit.epochs - cfg.swa_epochs:
            st.average_weights(last=epoch == fit.epochs - 1)
        record = fit.record_test_each_epoch or epoch == fit.epochs - 1
        probs = st.predict(flow_t, app_t) if record else None
        if fit.record_test_each_epoch:
            per_epoch.append(probs)
        if has_val:
            val_epoch.append(st.predict(flow_t, app_t, "val"))
        for f, fold in enumerate(folds):
            h = {
                "epoch": epoch + 1,
                "loss": float(loss[f]),
                "train_acc": float(acc[f]),
                "theta_deg": st.thetas(f),
                "flow_noise": float(st.noise_std[f]),  # the std this epoch trained with
            }
            if fit.record_test_each_epoch:
                yt = y[fold.test_idx]
                h["test_acc"] = float((probs[f].argmax(1) == yt).mean()) if len(yt) else None
            histories[f].append(h)
        st.adapt_noise(loss)
        tick()
    return [
        FoldResult(
            name=fold.name,
            state_dict=st.state_dict(f),
            norm=st.norms[f],
            history=histories[f],
            test_probs=probs[f],
            test_probs_each_epoch=np.stack([p[f] for p in per_epoch]) if per_epoch else None,
            val_probs_each_epoch=np.stack([p[f] for p in val_epoch]) if val_epoch else None,
        )
        for f, fold in enumerate(folds)
    ]


def fit_folds(
    cfg: ModelConfig,
    fit: FitConfig,
    *,
    flow: np.ndarray,
    app: np.ndarray,
    y: np.ndarray,
    folds: list[Fold],
    progress: Callable[[int, int], None] | None = None,
    device: str = "cpu",
    domain: np.ndarray | None = None,
) -> list[FoldResult]:
    """Train every fold (batched over folds) and predict its test samples.

    Args:
        cfg: the model preset (architecture and augmentation/regularisation details).
        fit: epochs, batch size, learning rate, weight decay, seed.
        flow: (N, 3, S, S) float32 raw (u, v, strain) at cfg.flow_size.
        app: (N, 1, A, A) float32 raw apex faces at cfg.app_size.
        y: (N,) int64 class indices in [0, cfg.n_classes).
        folds: the folds to train; results come back in this order.
        progress: called as progress(done_epochs, total_epochs) after every epoch.
        device: a torch device string (devices.resolve_device); the random draws stay on the CPU.
        domain: (N,) the dataset of every sample (any labels), read by balance_datasets only.

    Returns:
        One FoldResult per fold. Deterministic for a seed on CPU; a fold's result does not depend
        on which other folds are trained with it (up to float rounding).
    """
    flow, app = np.ascontiguousarray(flow, np.float32), np.ascontiguousarray(app, np.float32)
    y = np.asarray(y, dtype=np.int64)
    _check_inputs(cfg, flow, app, y, folds, domain)
    per_chunk = max(1, FOLD_PIXEL_BUDGET // (fit.batch_size * cfg.flow_size**2))
    chunks = [folds[i : i + per_chunk] for i in range(0, len(folds), per_chunk)]
    total, done = fit.epochs * len(chunks), 0

    def tick():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    domain = np.zeros(len(y), np.int64) if domain is None else np.unique(domain, return_inverse=True)[1]
    return [r for chunk in chunks for r in _train_chunk(cfg, fit, flow, app, y, domain, chunk, tick, device)]


def predict_proba(models_and_norms, flow: np.ndarray, app: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Ensemble average of softmax over [(model, norm), ...] for raw inputs; (N, n_classes).

    The models are moved to `device` for the call (and stay there)."""
    flow_t = torch.as_tensor(flow, dtype=torch.float32, device=device)
    app_t = torch.as_tensor(app, dtype=torch.float32, device=device)
    total = None
    with torch.no_grad():
        for model, norm in models_and_norms:
            p = model.to(device).eval()(*normalise(flow_t, app_t, norm)).softmax(-1)
            total = p if total is None else total + p
    if total is None:
        raise UsageError("predict_proba needs at least one (model, norm) pair")
    return (total / len(models_and_norms)).cpu().numpy()
