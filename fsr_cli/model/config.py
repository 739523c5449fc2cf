"""Model presets: one frozen ModelConfig rebuilds a network; presets are YAML files under models/.

A preset file has a `name`, a `description`, a `model:` section (architecture) and a `train:`
section (training defaults). Both sections are flattened into ModelConfig, which every checkpoint
stores, so a checkpoint alone rebuilds its network (as whisper's ModelDimensions does).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.files import load_yaml

# models/ at the repository root; a preset may also be given as a path to any YAML file.
PRESETS_DIR = Path(__file__).resolve().parents[2] / "models"

# "facesleuth-r": the dual-stream network below; "ststnet": STSTNet (Liong et al. 2019), the
# shallow triple-stream CNN of the MEGC2019 composite (network.py); "svm": an RBF-SVM on the
# flattened flow (train/baselines.py), trained by scikit-learn with no epochs
ARCHS = ("facesleuth-r", "ststnet", "svm")
SOA_MODES = ("learned", "fixed", "none")
FLOW_NORMS = ("fold", "sample", "median")
READOUTS = ("grid", "profile", "both")
# The bounds of the numeric fields (None: unbounded on that side): far beyond any preset's value,
# close enough that a typo (flow_size 3000, batch_size 0) is refused when the preset is read.
RANGES = {
    "flow_size": (8, 256),
    "app_size": (8, 256),
    "n_classes": (2, 64),
    "motion_unshuffle": (1, 8),
    "motion_pools": (0, 6),
    "grid": (1, 32),
    "theta_init_deg": (-360, 360),
    "soa_bins": (0, 1024),
    "soa_kernel": (1, 31),
    "app_dim": (1, 1024),
    "app_patch": (1, 64),
    "app_window": (1, 64),
    "app_heads": (1, 64),
    "fuse_dim": (1, 4096),
    "n_domains": (2, 64),
    "tta_shift": (0, 16),
    "epochs": (1, 100_000),
    "batch_size": (1, 65_536),
    "lr": (0, 10),
    "weight_decay": (0, 10),
    "warmup_epochs": (0, 100_000),
    "theta_lr_mult": (0, 10_000),
    "label_smoothing": (0, 0.99),
    "class_balance_power": (0, 10),
    "shift_aug": (0, 64),
    "cutout": (0, 256),
    "swa_epochs": (0, 100_000),
    "svm_c": (1e-6, 1e6),
    "svm_pool": (1, 256),
}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network, plus the preset's training defaults."""

    name: str = "facesleuth-r"
    description: str = ""
    arch: str = "facesleuth-r"
    # inputs
    flow_size: int = 28  # motion-stream input side (u, v, strain)
    app_size: int = 32  # appearance-stream input side (grey apex face)
    n_classes: int = 3
    # motion stream
    motion_stream: bool = True
    # "fold": the flow as the engine's per-fold channel statistics leave it; "sample": each
    # sample's u, v and strain standardised on their own (zero mean, unit std over the map), so
    # the stream reads the pattern of the motion, not its amplitude or offset; "median": the
    # same with each map's median removed instead of its mean (an offset a local motion barely moves)
    flow_norm: str = "fold"
    motion_widths: tuple[int, ...] = (16, 24, 32)  # one conv stage each
    motion_unshuffle: int = 2  # space-to-depth factor before stage 1 (28x28x3 -> 14x14x12)
    motion_pools: int = 2  # 2x max-pools before stages 2..motion_pools+1 (fewer keep later maps larger)
    # how the classifier reads the motion stream: "grid" = the last map average-pooled to
    # grid x grid; "profile" = every stage's SOA profile along its own angle (needs SOA)
    readout: str = "grid"
    grid: int = 4
    # SOA after every motion stage
    soa: str = "learned"  # "learned" theta | "fixed" at 90 degrees (CVA) | "none"
    theta_init_deg: float | None = 45.0  # None (YAML null): uniform in [0, 180) per fold, all layers alike
    soa_bins: int = 0  # bins along t; 0 = the map height (then theta = 90 gives exactly the rows)
    soa_kernel: int = 3  # taps of the depthwise 1-D conv over the pooled profile
    # coarse-to-fine orientation search: the soft bins start this wide (1 = each spans the map's
    # whole t-range, 0 = off) and narrow linearly to the exact bins over the first soa_blur_frac
    # of the epochs; the last epoch always trains with the exact bins that inference uses
    soa_blur: float = 0.0
    soa_blur_frac: float = 0.6
    # while the bins are blurred, every layer's angle moves by the mean of the layers' gradients
    # (they start alike, so they turn as one); with the exact bins each layer refines its own
    soa_tie: bool = False
    # appearance stream (FPF)
    appearance_stream: bool = True
    app_dim: int = 8
    app_patch: int = 4
    app_window: int = 4  # tokens per window side
    app_heads: int = 2
    # fusion
    fuse_dim: int = 64
    # dropout of the fused features before the classifier while training (0 = off); the engine
    # draws the masks from each fold's own stream
    head_dropout: float = 0.0
    # > 0: domain-adversarial training (Ganin & Lempitsky 2015): a head guesses each training
    # sample's dataset from the fused features through a gradient reversal whose strength rises
    # from 0 to domain_adv over a fold's training, so the features learn not to tell the datasets
    # apart; n_domains is the head's width (the most datasets one run may hold)
    domain_adv: float = 0.0
    n_domains: int = 4
    # logits averaged over the sample and its left-right mirror image (u negated): an exactly
    # mirror-invariant network (needs flow_norm "sample", which makes the mirror exact)
    mirror_sym: bool = False
    # > 0: at evaluation the logits are averaged over the flow and its four copies moved by
    # tta_shift pixels (test-time augmentation; training is unchanged)
    tta_shift: int = 0
    # training defaults
    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 3
    theta_lr_mult: float = 10.0  # theta is one scalar with a small gradient; see README
    label_smoothing: float = 0.1
    class_balance: bool = True  # inverse-frequency class weights from each fold's training labels
    # the weights are (N / (K n_c)) ** class_balance_power: 1 = full inverse frequency (balanced
    # accuracy), 0 = plain cross entropy, between = rarer classes weighted up less
    class_balance_power: float = 1.0
    # class weights per (dataset, class): each training dataset weighs as much as the others,
    # and its classes alike (needs class_balance; the engine's domain array names the datasets)
    balance_datasets: bool = False
    # > 0: focal loss (Lin et al. 2017): each class term of the cross entropy scaled by
    # (1 - p)^focal_gamma, so confidently right samples weigh less (0 = plain cross entropy)
    focal_gamma: float = 0.0
    shift_aug: int = 1  # random translation of the flow in pixels (0 = off)
    # random rotation (degrees, uniform in [-rot_aug, rot_aug]) and scaling (factor in
    # [1 - scale_aug, 1 + scale_aug]) of the training flow about the map's centre, the (u, v)
    # vectors turned with it (0 = off)
    rot_aug: float = 0.0
    scale_aug: float = 0.0
    # cutout: a random cutout x cutout square of the training flow blanked (to the fold's mean)
    # in a cutout_p fraction of the samples (0 = off)
    cutout: int = 0
    cutout_p: float = 0.5
    # sharpness-aware minimisation (Foret et al. 2021): each step's gradient is taken at the
    # weights moved sam_rho along the fold's own normalised gradient (2x the compute; 0 = off)
    sam_rho: float = 0.0
    flip_aug: bool = False  # mirror half of the training samples left-right (u changes sign)
    # modality dropout: this fraction of the training samples sees a blank face (the appearance
    # stream's input zeroed), so the motion stream learns to carry the class alone (0 = off)
    app_drop: float = 0.0
    swa_epochs: int = 0  # > 0: the model kept is the mean of the weights after each of the last N epochs
    mixup: float = 0.0  # alpha of mixup (Beta(alpha, alpha) mixing of sample pairs and labels; 0 = off)
    flow_noise: float = 0.0  # std of Gaussian noise added to the normalised training flow (0 = off)
    # > 0: each fold's flow-noise std adapts after every epoch, up by flow_noise_step while the
    # fold's training loss is within this margin of its floor (the entropy of the smoothed labels),
    # down otherwise (never below 0), so memorised folds get noise and hard ones stay clean
    flow_noise_margin: float = 0.0
    flow_noise_step: float = 1.0
    # arch "svm": SVC(C=svm_c, gamma=svm_gamma, class_weight balanced) on the flattened flow, as
    # flow_norm leaves it ("fold": raw; "sample"/"median": each sample's maps standardised) and
    # average-pooled svm_pool x svm_pool first (1 = every pixel)
    svm_c: float = 10.0
    svm_gamma: str = "scale"
    svm_pool: int = 1

    @property
    def trains_by_epoch(self) -> bool:
        """Whether the model trains by epochs (the networks) or in one fit (the SVM)."""
        return self.arch != "svm"

    def __post_init__(self):
        self._check_types_and_ranges()
        if self.arch not in ARCHS:
            raise UsageError(f"model config {self.name}: arch={self.arch!r} is not one of {', '.join(ARCHS)}")
        if self.soa not in SOA_MODES:
            raise UsageError(
                f"model config {self.name}: soa={self.soa!r} is not one of {', '.join(SOA_MODES)}"
            )
        if self.flow_norm not in FLOW_NORMS:
            raise UsageError(
                f"model config {self.name}: flow_norm={self.flow_norm!r} is not one of "
                f"{', '.join(FLOW_NORMS)}"
            )
        if self.readout not in READOUTS:
            raise UsageError(
                f"model config {self.name}: readout={self.readout!r} is not one of {', '.join(READOUTS)}"
            )
        if self.readout != "grid" and self.soa == "none":
            raise UsageError(
                f"model config {self.name}: readout {self.readout!r} reads SOA profiles; "
                "set soa or use 'grid'"
            )
        if not (0.0 <= self.soa_blur <= 1.0 and 0.0 < self.soa_blur_frac <= 1.0):
            raise UsageError(
                f"model config {self.name}: soa_blur must lie in [0, 1] and soa_blur_frac in (0, 1], "
                f"got {self.soa_blur} and {self.soa_blur_frac}"
            )
        if min(self.flow_noise, self.flow_noise_margin, self.flow_noise_step) < 0:
            raise UsageError(
                f"model config {self.name}: flow_noise, flow_noise_margin and flow_noise_step must be >= 0"
            )
        if self.mirror_sym and self.motion_stream and self.flow_norm != "sample":
            raise UsageError(f"model config {self.name}: mirror_sym needs flow_norm 'sample'")
        if not 0 <= self.swa_epochs <= self.epochs:
            raise UsageError(
                f"model config {self.name}: swa_epochs must lie in [0, epochs], got {self.swa_epochs}"
            )
        if self.balance_datasets and not self.class_balance:
            raise UsageError(f"model config {self.name}: balance_datasets needs class_balance: true")
        if self.class_balance_power < 0:
            raise UsageError(
                f"model config {self.name}: class_balance_power must be >= 0, got {self.class_balance_power}"
            )
        if not 0.0 <= self.app_drop < 1.0:
            raise UsageError(f"model config {self.name}: app_drop must lie in [0, 1), got {self.app_drop}")
        if self.rot_aug < 0 or not 0.0 <= self.scale_aug < 1.0:
            raise UsageError(
                f"model config {self.name}: rot_aug must be >= 0 and scale_aug in [0, 1), "
                f"got {self.rot_aug} and {self.scale_aug}"
            )
        if self.cutout < 0 or not 0.0 <= self.cutout_p <= 1.0:
            raise UsageError(
                f"model config {self.name}: cutout must be >= 0 and cutout_p in [0, 1], "
                f"got {self.cutout} and {self.cutout_p}"
            )
        if self.domain_adv < 0 or self.n_domains < 2:
            raise UsageError(
                f"model config {self.name}: domain_adv must be >= 0 and n_domains >= 2, "
                f"got {self.domain_adv} and {self.n_domains}"
            )
        if self.domain_adv > 0 and (self.arch != "facesleuth-r" or self.mirror_sym or self.mixup > 0):
            raise UsageError(
                f"model config {self.name}: domain_adv is for arch facesleuth-r without mirror_sym "
                "or mixup (a mixed sample has no one dataset); set it to 0"
            )
        if self.svm_pool < 1 or self.flow_size % self.svm_pool:
            raise UsageError(
                f"model config {self.name}: svm_pool must be >= 1 and divide flow_size {self.flow_size}, "
                f"got {self.svm_pool}"
            )
        if self.focal_gamma < 0:
            raise UsageError(f"model config {self.name}: focal_gamma must be >= 0, got {self.focal_gamma}")
        if self.sam_rho < 0:
            raise UsageError(f"model config {self.name}: sam_rho must be >= 0, got {self.sam_rho}")
        if not 0.0 <= self.head_dropout < 1.0:
            raise UsageError(
                f"model config {self.name}: head_dropout must lie in [0, 1), got {self.head_dropout}"
            )
        if self.tta_shift < 0 or (self.tta_shift and self.arch != "facesleuth-r"):
            raise UsageError(
                f"model config {self.name}: tta_shift must be >= 0, and is for arch facesleuth-r only; "
                f"got {self.tta_shift} for {self.arch}"
            )
        if self.head_dropout > 0 and self.arch != "facesleuth-r":
            raise UsageError(
                f"model config {self.name}: head_dropout is for arch facesleuth-r; "
                f"set it to 0 for {self.arch}"
            )
        if self.mixup < 0:
            raise UsageError(f"model config {self.name}: mixup must be >= 0, got {self.mixup}")
        if not (self.motion_stream or self.appearance_stream):
            raise UsageError(f"model config {self.name}: at least one of motion_stream/appearance_stream")
        side = self.flow_size // self.motion_unshuffle
        if self.motion_stream and side < 2 ** min(self.motion_pools, len(self.motion_widths) - 1):
            raise UsageError(
                f"model config {self.name}: flow_size {self.flow_size} is too small for "
                f"{self.motion_pools} pools after unshuffle {self.motion_unshuffle}"
            )
        if self.appearance_stream and self.app_size % (self.app_patch * self.app_window):
            raise UsageError(
                f"model config {self.name}: app_size {self.app_size} must be a multiple of "
                f"app_patch*app_window = {self.app_patch * self.app_window}"
            )

    def _check_types_and_ranges(self) -> None:
        """Every field of its declared type, finite, and within RANGES: a preset's typo is one line
        here, never a ZeroDivisionError, a torch RuntimeError or a MemoryError later."""
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            kind = f.type.split(" | ")[0]
            if v is None and "None" in f.type:
                continue
            if kind == "tuple[int, ...]":
                ok = isinstance(v, tuple) and 1 <= len(v) <= 8
                ok = ok and all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 1024 for w in v)
                if not ok:
                    raise UsageError(
                        f"model config {self.name}: {f.name} must be a list of 1 to 8 widths from 1 to "
                        f"1024, got {v!r}"
                    )
                continue
            want = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}[kind]
            if not isinstance(v, want) or (kind != "bool" and isinstance(v, bool)):
                raise UsageError(f"model config {self.name}: {f.name} must be a {kind}, got {v!r}")
            if kind == "float" and not math.isfinite(v):
                raise UsageError(f"model config {self.name}: {f.name} must be a finite number, got {v!r}")
            lo, hi = RANGES.get(f.name, (None, None))
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise UsageError(f"model config {self.name}: {f.name} must lie in [{lo}, {hi}], got {v!r}")
        if self.lr <= 0:
            raise UsageError(f"model config {self.name}: lr must be > 0, got {self.lr}")
        if self.app_dim % self.app_heads:
            raise UsageError(
                f"model config {self.name}: app_heads {self.app_heads} must divide app_dim {self.app_dim}"
            )
        if self.soa_kernel % 2 == 0:
            raise UsageError(f"model config {self.name}: soa_kernel must be odd, got {self.soa_kernel}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["motion_widths"] = list(self.motion_widths)
        return d

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "model config") -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UsageError(
                f"{source}: unknown model setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        d = dict(d)
        if "motion_widths" in d:
            d["motion_widths"] = tuple(int(w) for w in d["motion_widths"])
        return cls(**d)


def list_presets() -> list[str]:
    """Names of the presets under PRESETS_DIR."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _preset_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p
    candidate = PRESETS_DIR / f"{p.stem if p.suffix in ('.yaml', '.yml') else name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    raise UsageError(
        f"unknown model preset {name_or_path!r}; choose one of {', '.join(list_presets())} "
        "or give the path of a preset YAML file"
    )


def preset_record(name_or_path: str, name: str) -> dict:
    """Which file a preset came from and its content's sha256, recorded in a run's config.yaml:
    `edited` is true where the file declares the name of a shipped preset (`name`) but differs
    from it, so that its runs are never taken for the shipped preset's (see model_label)."""
    import hashlib

    path = _preset_path(name_or_path).resolve()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    shipped = PRESETS_DIR / f"{name}.yaml"
    edited = shipped.is_file() and hashlib.sha256(shipped.read_bytes()).hexdigest() != digest
    return {"file": str(path), "sha256": digest, "edited": edited}


def model_label(config: dict) -> str:
    """The model's name as tables show it: a shipped preset's name, marked where it was edited."""
    name = config.get("model", {}).get("name") or str(config.get("model_source"))
    preset = config.get("preset") or {}
    return f"{name} (edited: {Path(preset['file']).name})" if preset.get("edited") else name


def load_preset(name_or_path: str, **overrides) -> ModelConfig:
    """Load a preset by name ("facesleuth-r") or path ("models/cva.yaml").

    Args:
        name_or_path: preset name under models/ or a YAML file path.
        **overrides: ModelConfig fields to replace (e.g. epochs=10, n_classes=5).

    Raises:
        UsageError: unknown preset (the message lists the presets), unreadable YAML or unknown keys.
    """
    path = _preset_path(name_or_path)
    try:
        doc = load_yaml(path) or {}
    except FsrError as e:
        raise UsageError(f"{e}; fix or regenerate the preset") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: a preset must be a mapping with name, model and train sections")
    flat = {"name": doc.get("name", path.stem), "description": doc.get("description", "")}
    for section in ("model", "train"):
        flat.update(doc.get(section) or {})
    flat.update(overrides)
    return ModelConfig.from_dict(flat, source=str(path))
