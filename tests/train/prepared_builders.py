"""Small prepared datasets with learnable, class-dependent flows, written in the real prepared format.

Each class moves a different facial region in a different direction (negative: brows down,
positive: mouth corners outward, surprise: brows up), plus noise, so a tiny model can learn
them in a few epochs. Entries are real cache entries (Cache.put) behind a real prepared.json
(write_manifest), so training reads them exactly as it reads `fsr preprocess` output.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from fsr_cli.cache import Cache, make_key
from fsr_cli.prepared import PreparedSample, write_manifest

SIZE = 32
# Native emotion -> (centre row, centre cols, (du, dv)) of its motion, in fractions of the face.
MOTION = {
    "negative": (0.3, (0.3, 0.7), (0.0, 1.0)),
    "positive": (0.75, (0.25, 0.75), (1.0, 0.0)),
    "surprise": (0.3, (0.3, 0.7), (0.0, -1.0)),
}
NOISE = 0.6  # pixels; enough that a 3-epoch model is good (UF1 ~0.8) but not perfect
CASME2_EMOTIONS = {"disgust": "negative", "happiness": "positive", "surprise": "surprise", "others": None}
SAMM_EMOTIONS = {"Anger": "negative", "Happiness": "positive", "Surprise": "surprise", "Other": None}


def make_flow(kind: str | None, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """(3, size, size) float32: u, v in pixels and their optical strain; `kind` None = random motion."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    u = rng.normal(0, NOISE, (size, size))
    v = rng.normal(0, NOISE, (size, size))
    if kind is not None:
        row, cols, (du, dv) = MOTION[kind]
        for k, col in enumerate(cols):
            blob = np.exp(-((yy - row) ** 2 + (xx - col) ** 2) / 0.01)
            u += blob * du * (1 if k else -1)  # mouth corners move apart
            v += blob * dv
    uy, ux = np.gradient(u)
    vy, vx = np.gradient(v)
    strain = np.sqrt(ux**2 + vy**2 + 0.5 * (uy + vx) ** 2)
    return np.stack([u, v, strain]).astype(np.float32)


def make_prepared(
    root: Path,
    *,
    dataset: str,
    subjects: list[str],
    emotions: dict[str, str | None],
    per_class: int = 2,
    seed: int = 0,
) -> Path:
    """Write `root/.fsr/prepared.json` and its flow entries; returns the dataset folder `root`."""
    rng = np.random.default_rng(seed)
    cache = Cache(root / ".fsr")
    samples = []
    for subject in subjects:
        for emotion, kind in emotions.items():
            for k in range(per_class):
                clip = f"{subject}_{emotion.lower()}_{k}"
                arrays = {
                    "flow": make_flow(kind, rng),
                    "onset": rng.integers(0, 255, (SIZE, SIZE), dtype=np.uint8),
                    "apex": rng.integers(0, 255, (SIZE, SIZE), dtype=np.uint8),
                }
                key = make_key("flow", 1, {"clip": clip}, [dataset, subject])
                entry = cache.put("flow", key, arrays, {"params": {}})
                samples.append(
                    PreparedSample(
                        dataset=dataset,
                        subject=subject,
                        clip=clip,
                        emotion=emotion,
                        label3=kind,
                        onset=0,
                        apex=5,
                        offset=10,
                        apex_source="annotated",
                        entry=str(entry.path.relative_to(cache.root)),
                    )
                )
    write_manifest(cache, dataset=dataset, source=root, params={"size": SIZE}, samples=samples)
    return root


def casme2_like(root: Path, subjects=("01", "02", "03"), per_class: int = 2, seed: int = 0) -> Path:
    return make_prepared(
        root,
        dataset="casme2",
        subjects=list(subjects),
        emotions=CASME2_EMOTIONS,
        per_class=per_class,
        seed=seed,
    )


def samm_like(root: Path, subjects=("006", "007"), per_class: int = 2, seed: int = 1) -> Path:
    return make_prepared(
        root, dataset="samm", subjects=list(subjects), emotions=SAMM_EMOTIONS, per_class=per_class, seed=seed
    )


def _tmpdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="fsr-train-test-"))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def shared_data() -> tuple[Path, Path]:
    """Two prepared datasets shared by every test of the session (built once per process)."""
    base = _tmpdir()
    return casme2_like(base / "casme2"), samm_like(base / "samm")


def run_fsr(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fsr_cli", *args], capture_output=True, text=True, cwd=cwd)


# Model overrides that make a preset tiny enough for second-long tests.
TINY: dict = {
    "flow_size": 16,
    "app_size": 16,
    "motion_widths": [8, 8],
    "grid": 2,
    "app_dim": 8,
    "fuse_dim": 16,
    "batch_size": 16,
    "lr": 0.01,
    "warmup_epochs": 0,
    "shift_aug": 0,
}
EPOCHS = 6  # the presets learn these toy flows to UF1 ~0.7 in 6 epochs


def tiny_preset(folder: Path) -> Path:
    """A YAML preset file: the facesleuth-r preset made tiny (for `fsr train --model FILE`)."""
    import yaml

    from fsr_cli.model.config import PRESETS_DIR

    doc = yaml.safe_load((PRESETS_DIR / "facesleuth-r.yaml").read_text())
    doc["model"].update({k: v for k, v in TINY.items() if k in doc["model"]})
    doc["train"].update({k: v for k, v in TINY.items() if k in doc["train"]})
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@functools.cache
def shared_runs() -> dict[str, Path]:
    """Finished runs shared by the session (built once per process): SOA, test-oracle, no-orientation."""
    from fsr_cli.train.runner import TrainConfig, plan_run, run_training

    base, runs = _tmpdir(), {}
    variants = {"soa": {}, "oracle": {"select": "test-oracle"}, "none": {"model": "no-orientation"}}
    for name, kw in variants.items():
        cfg = TrainConfig(datasets=shared_data(), protocol="loso", epochs=EPOCHS, model_overrides=TINY, **kw)
        runs[name] = base / name
        runs[name].mkdir()
        run_training(plan_run(cfg), run=runs[name], argv=["fsr", "train"])
    return runs
