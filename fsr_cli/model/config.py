"""Model presets: one frozen ModelConfig rebuilds a network; presets are YAML files under models/.

A preset file has a `name`, a `description`, a `model:` section (architecture, ModelConfig's
fields) and a `train:` section (the training recipe, TrainRecipe: ModelConfig.train). Every
checkpoint stores the whole ModelConfig, so a checkpoint alone rebuilds its network (as whisper's
ModelDimensions does). Options that were measured and removed (model/removed.py) are refused in a
preset with the finding that removed them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.files import load_yaml
from fsr_cli.model.plugins import is_plugin, plugin_settings

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
    "epochs": (1, 100_000),
    "batch_size": (1, 65_536),
    "lr": (0, 10),
    "weight_decay": (0, 10),
    "warmup_epochs": (0, 100_000),
    "theta_lr_mult": (0, 10_000),
    "label_smoothing": (0, 0.99),
    "shift_aug": (0, 64),
    "svm_c": (1e-6, 1e6),
    "svm_pool": (1, 256),
}


@dataclass(frozen=True)
class TrainRecipe:
    """How a preset's network is trained: the preset's `train:` section (the engine's FitConfig
    adds the run's seed to it)."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 3
    theta_lr_mult: float = 10.0  # theta is one scalar with a small gradient; see docs/model.md
    label_smoothing: float = 0.1
    class_balance: bool = True  # inverse-frequency class weights from each fold's training labels
    shift_aug: int = 1  # random translation of the flow in pixels (0 = off)
    flow_noise: float = 0.0  # std of Gaussian noise added to the normalised training flow (0 = off)
    # > 0: each fold's flow-noise std adapts after every epoch, up by flow_noise_step while the
    # fold's training loss is within this margin of its floor (the entropy of the smoothed labels),
    # down otherwise (never below 0), so memorised folds get noise and hard ones stay clean
    flow_noise_margin: float = 0.0
    flow_noise_step: float = 1.0

    def __post_init__(self):
        _check_fields(self, "train recipe")
        if self.lr <= 0:
            raise UsageError(f"train recipe: lr must be > 0, got {self.lr}")
        if min(self.flow_noise, self.flow_noise_margin, self.flow_noise_step) < 0:
            raise UsageError("train recipe: flow_noise, flow_noise_margin and flow_noise_step must be >= 0")


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
    # the preset's training recipe (its train: section)
    train: TrainRecipe = field(default_factory=lambda: TrainRecipe())
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
        if self.arch not in ARCHS and not is_plugin(self.arch):
            raise UsageError(
                f"model config {self.name}: arch={self.arch!r} is not one of {', '.join(ARCHS)} or a plugin "
                "(FILE.py:Class, module:Class, or an installed fsr.models entry point)"
            )
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
        if self.svm_pool < 1 or self.flow_size % self.svm_pool:
            raise UsageError(
                f"model config {self.name}: svm_pool must be >= 1 and divide flow_size {self.flow_size}, "
                f"got {self.svm_pool}"
            )
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
        _check_fields(self, f"model config {self.name}")
        if self.app_dim % self.app_heads:
            raise UsageError(
                f"model config {self.name}: app_heads {self.app_heads} must divide app_dim {self.app_dim}"
            )
        if self.soa_kernel % 2 == 0:
            raise UsageError(f"model config {self.name}: soa_kernel must be odd, got {self.soa_kernel}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self) | {"motion_widths": list(self.motion_widths)}

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "model config", stored: bool = False) -> ModelConfig:
        """A ModelConfig from a preset's settings (flat: model and train keys side by side, as
        load_preset gives them) or a stored one (to_dict's nesting, from a checkpoint or config.yaml).

        stored: written by an earlier fsr, so a removed option at the value that was its default
        (which computed what fsr computes now) is dropped; in a preset, naming it is an error.

        Raises:
            UsageError: an unknown or removed setting (with its finding), a bad value.
        """
        from fsr_cli.model.removed import REMOVED, removed_error

        d = dict(d)
        recipe_keys = {f.name for f in dataclasses.fields(TrainRecipe)}
        train = dict(d.pop("train", None) or {})
        for k in [k for k in d if k in recipe_keys]:  # flat (a preset, or a config of an earlier fsr)
            train[k] = d.pop(k)
        for k in [k for k in (*d, *train) if k in REMOVED]:
            value = d.pop(k) if k in d else train.pop(k)
            if not stored or value != REMOVED[k].default:
                raise removed_error(source, k, value)
        known = {f.name for f in dataclasses.fields(cls)} - {"train"}
        unknown = sorted(set(d) - known) + sorted(set(train) - recipe_keys)
        if unknown:
            raise UsageError(
                f"{source}: unknown model setting(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(known | recipe_keys))}"
            )
        if "motion_widths" in d and isinstance(d["motion_widths"], list):
            d["motion_widths"] = tuple(d["motion_widths"])
        return cls(**d, train=TrainRecipe(**train))


def _check_fields(obj, where: str) -> None:
    """Every field of a config of its declared type, finite, and within RANGES: a preset's typo is
    one line here, never a ZeroDivisionError, a torch RuntimeError or a MemoryError later."""
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        kind = f.type.split(" | ")[0]
        if (v is None and "None" in f.type) or kind == "TrainRecipe":
            continue
        if kind == "tuple[int, ...]":
            ok = isinstance(v, tuple) and 1 <= len(v) <= 8
            ok = ok and all(isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 1024 for w in v)
            if not ok:
                raise UsageError(
                    f"{where}: {f.name} must be a list of 1 to 8 widths from 1 to 1024, got {v!r}"
                )
            continue
        want = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}[kind]
        if not isinstance(v, want) or (kind != "bool" and isinstance(v, bool)):
            raise UsageError(f"{where}: {f.name} must be a {kind}, got {v!r}")
        if kind == "float" and not math.isfinite(v):
            raise UsageError(f"{where}: {f.name} must be a finite number, got {v!r}")
        lo, hi = RANGES.get(f.name, (None, None))
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise UsageError(f"{where}: {f.name} must lie in [{lo}, {hi}], got {v!r}")


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


def _is_plugin_ref(name_or_path: str) -> bool:
    """FILE.py:Class, module:Class, or an installed entry point that no preset file describes."""
    if Path(name_or_path).suffix in (".yaml", ".yml"):
        return False
    described = (PRESETS_DIR / f"{name_or_path}.yaml").is_file()
    return ":" in name_or_path or (is_plugin(name_or_path) and not described)


def preset_record(name_or_path: str, name: str) -> dict:
    if _is_plugin_ref(name_or_path):
        return plugin_record(name_or_path)
    return _file_record(name_or_path, name)


def plugin_record(ref: str) -> dict:
    """A plugin's file (or module) and its sha256, as a preset's record."""
    import hashlib
    import inspect

    from fsr_cli.model.plugins import load_class

    source = Path(inspect.getfile(load_class(ref))).resolve()
    return {"file": str(source), "sha256": hashlib.sha256(source.read_bytes()).hexdigest(), "edited": False}


def _file_record(name_or_path: str, name: str) -> dict:
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
        **overrides: ModelConfig or TrainRecipe fields to replace (e.g. epochs=10, n_classes=5).

    Raises:
        UsageError: unknown preset (the message lists the presets), unreadable YAML or unknown keys.
    """
    if _is_plugin_ref(name_or_path):
        return ModelConfig.from_dict({**plugin_settings(name_or_path), **overrides}, source=name_or_path)
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
