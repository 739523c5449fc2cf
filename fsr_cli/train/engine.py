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
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.func import functional_call, stack_module_state
from torch.nn import functional as F

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.model.config import ModelConfig, TrainRecipe
from fsr_cli.model.network import set_soa_blur
from fsr_cli.model.soa import theta_to_deg
from fsr_cli.train.foldwise import (
    IndexStream,
    fold_noise,
    fold_norm,
    fold_seed,
    initial_model,
    loss_floor,
    lr_factor,
    normalise,
    sample_weights,
    shift_images,
    soa_blur_at,
)

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
# Folds trained together per chunk: F * batch * flow_size^2 stays under this. Beyond ~2k samples
# of 28x28 per step the activations fall out of cache and a step costs more per sample.
FOLD_PIXEL_BUDGET = 1_800_000
EVAL_BATCH = 256


@dataclass(frozen=True)
class FitConfig(TrainRecipe):
    """A run's training: the preset's recipe, the run's seed, and what is recorded."""

    seed: int = 0
    record_test_each_epoch: bool = False  # needed by --select test-oracle (leakage) and for curves

    @classmethod
    def from_model(cls, cfg: ModelConfig, *, seed: int, **overrides) -> FitConfig:
        """The preset's training recipe, with overrides (e.g. epochs=10)."""
        return cls(**{**dataclasses.asdict(cfg.train), **overrides}, seed=seed)


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


def _check_inputs(cfg: ModelConfig, flow, app, y, folds):
    if flow.ndim != 4 or flow.shape[1:] != (3, cfg.flow_size, cfg.flow_size):
        raise UsageError(
            f"flow has shape {flow.shape}; the model wants (N, 3, {cfg.flow_size}, {cfg.flow_size})"
        )
    if app.ndim != 4 or app.shape[1:] != (1, cfg.app_size, cfg.app_size):
        raise UsageError(f"app has shape {app.shape}; the model wants (N, 1, {cfg.app_size}, {cfg.app_size})")
    if not (len(flow) == len(app) == len(y)):
        raise UsageError(f"flow, app and y have {len(flow)}, {len(app)}, {len(y)} samples; they must match")
    if len(y) and (y.min() < 0 or y.max() >= cfg.n_classes):
        raise UsageError(f"labels must lie in [0, {cfg.n_classes}); got {y.min()}..{y.max()}")
    for f in folds:
        if len(f.train_idx) == 0:
            raise UsageError(f"fold {f.name}: no training samples")


class _Folds:
    """F folds stacked for one program: parameters, AdamW state, statistics and RNG streams."""

    def __init__(self, cfg: ModelConfig, fit: FitConfig, folds: list[Fold], flow, app, y, device="cpu"):
        self.cfg, self.fit, self.folds, self.device = cfg, fit, folds, torch.device(device)
        seeds = [fold_seed(fit.seed, f.name) for f in folds]
        # initial weights drawn on the CPU (the same on every device), then moved
        models = [initial_model(cfg, seed=fit.seed, name=f.name).to(self.device) for f in folds]
        self.params, self.buffers = stack_module_state(models)
        self.template = copy.deepcopy(models[0]).to("meta")
        # every layer's angle (reported), and those that train (theta_lr_mult, soa_tie)
        self.theta_names = [n for n in [*self.params, *self.buffers] if n.endswith("soa.theta")]
        # a plugin's angles come from its own angles(), read on a probe holding one fold's weights
        has_angles = getattr(models[0], "has_angles", lambda: False)()
        self.probe = initial_model(cfg, seed=fit.seed, name=folds[0].name) if has_angles else None
        self.learned_thetas = [n for n in self.theta_names if n in self.params]
        self.norms = [fold_norm(flow, app, f.train_idx) for f in folds]
        self.stat = {
            k: torch.tensor([n[k] for n in self.norms], dtype=torch.float32, device=self.device)
            for k in self.norms[0]
        }
        self.streams = [
            IndexStream(f.train_idx, np.random.default_rng(s)) for f, s in zip(folds, seeds, strict=True)
        ]
        self.steps = [math.ceil(len(f.train_idx) / fit.batch_size) for f in folds]
        self.sample_w = torch.tensor(
            np.stack([sample_weights(cfg, fit, y, f.train_idx) for f in folds]),
            dtype=torch.float32,
            device=self.device,
        )  # (F, N): every sample's loss weight in each fold
        self.m = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.v = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.t = torch.zeros(len(folds), device=self.device)
        self.noisy = fit.flow_noise > 0 or fit.flow_noise_margin > 0
        self.noise_std = np.full(len(folds), float(fit.flow_noise))  # per fold; adapted by adapt_noise

    def adapt_noise(self, loss: np.ndarray) -> None:
        """After an epoch: raise a fold's flow noise while its training loss sits near the floor."""
        fit = self.fit
        if fit.flow_noise_margin > 0:
            near = loss < loss_floor(self.cfg, fit) + fit.flow_noise_margin
            self.noise_std = np.maximum(0.0, self.noise_std + np.where(near, 1.0, -1.0) * fit.flow_noise_step)

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

    def forward(self, flow_b, app_b) -> torch.Tensor:
        """Every fold's logits (F, B, n_classes)."""

        def one(p, b, x, a):
            return functional_call(self.template, (p, b), (x, a))

        return torch.vmap(one)(self.params, self.buffers, flow_b, app_b)

    def loss(self, logits, y_b, w_b, active) -> torch.Tensor:
        """Per-fold class-weighted, label-smoothed cross entropy, zero for folds sitting out. (F,)

        w_b: (F, B) the samples' weights (sample_weights)."""
        K, eps = self.cfg.n_classes, self.fit.label_smoothing
        q = F.one_hot(y_b, K).float() * (1 - eps) + eps / K
        per = -(q * logits.log_softmax(-1)).sum(-1)  # (F, B)
        return (per * w_b).sum(1) / w_b.sum(1).clamp(min=1e-8) * active

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
            lr = (lrs * (self.fit.theta_lr_mult if theta else 1.0)).view(shape)
            step = lr * (m / bc1.view(shape)) / ((v / bc2.view(shape)).sqrt() + ADAM_EPS)
            # p is stacked (F, ...): dim > 2 means a matrix or kernel per fold; no decay on biases,
            # norms, angles and position embeddings.
            decays = p.dim() > 2 and not theta and not k.endswith("pos")
            if decays:
                step = step + lr * self.fit.weight_decay * p
            p.copy_(torch.where(on, p - step, p))

    def thetas(self, f: int) -> list[float]:
        if self.probe is not None:
            self.probe.load_state_dict(self.state_dict(f))
            return self.probe.thetas_deg()
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
        for lo in range(0, T, EVAL_BATCH):
            idx = torch.from_numpy(pad[:, lo : lo + EVAL_BATCH])
            out[:, lo : lo + EVAL_BATCH] = (
                self.forward(*self.normalised(flow_t, app_t, idx)).softmax(-1).cpu().numpy()
            )
        return [out[i, : len(t)] for i, t in enumerate(tests)]


def _epoch(st: _Folds, flow_t, app_t, y_t, epoch: int, *, tied: bool) -> tuple[np.ndarray, np.ndarray]:
    """Train every fold for one of its epochs; returns per-fold mean loss and train accuracy.

    tied: the layers' angles move together this epoch (ModelConfig.soa_tie, blurred epochs).
    """
    fit, n = st.fit, len(st.folds)
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
        if fit.shift_aug:
            # Only active folds draw: a fold's RNG use must not depend on the others in its chunk.
            offs = [
                st.streams[f].rng.integers(-fit.shift_aug, fit.shift_aug + 1, (fit.batch_size, 2))
                if on[f]
                else np.zeros((fit.batch_size, 2), dtype=np.int64)
                for f in range(n)
            ]
            offs = st.to_device(np.concatenate(offs))
            flow_b = shift_images(flow_b.flatten(0, 1), offs, fit.shift_aug).view(flow_b.shape)
        if st.noisy:  # drawn even at std 0, so a fold's random stream does not depend on its losses
            std = st.to_device(st.noise_std).float().view(-1, 1, 1, 1, 1)
            flow_b = flow_b + std * st.to_device(fold_noise(st.streams, on, flow_b.shape[1:]))
        y_b, active = y_t[idx_t.to(st.device)], st.to_device(on).float()
        w_b = torch.gather(st.sample_w, 1, idx_t.to(st.device))
        logits = st.forward(flow_b, app_b)
        losses = st.loss(logits, y_b, w_b, active)
        grads = dict(zip(st.params, torch.autograd.grad(losses.sum(), list(st.params.values())), strict=True))
        if tied:
            st.tie_thetas(grads)
        lrs = st.to_device(
            [fit.lr * lr_factor(epoch + j / s, epochs=fit.epochs, warmup=fit.warmup_epochs) for s in st.steps]
        )
        st.adamw(grads, lrs, active)
        loss_sum += losses.detach().cpu().numpy()
        correct += ((logits.argmax(-1) == y_b).sum(1).cpu().numpy()) * on
        seen += fit.batch_size * on
    return loss_sum / np.array(st.steps), correct / seen


class NonFiniteLoss(FsrError):
    """A fold's loss turned NaN or inf: the run stops instead of scoring NaN probabilities."""


def _train_chunk(cfg, fit, flow, app, y, folds, tick, device="cpu") -> list[FoldResult]:
    flow_t, app_t, y_t = (torch.from_numpy(a).to(device) for a in (flow, app, y))
    has_val = any(f.val_idx is not None and len(f.val_idx) for f in folds)
    if has_val:
        folds = [
            f if f.val_idx is not None else Fold(f.name, f.train_idx, f.test_idx, f.test_idx[:0])
            for f in folds
        ]
    st = _Folds(cfg, fit, folds, flow, app, y, device)
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

    Returns:
        One FoldResult per fold. Deterministic for a seed on CPU; a fold's result does not depend
        on which other folds are trained with it (up to float rounding).
    """
    flow, app = np.ascontiguousarray(flow, np.float32), np.ascontiguousarray(app, np.float32)
    y = np.asarray(y, dtype=np.int64)
    _check_inputs(cfg, flow, app, y, folds)
    per_chunk = max(1, FOLD_PIXEL_BUDGET // (fit.batch_size * cfg.flow_size**2))
    chunks = [folds[i : i + per_chunk] for i in range(0, len(folds), per_chunk)]
    total, done = fit.epochs * len(chunks), 0

    def tick():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    return [r for chunk in chunks for r in _train_chunk(cfg, fit, flow, app, y, chunk, tick, device)]


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
