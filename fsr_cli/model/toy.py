"""Toy flow fields with known motion: for the model's tests, the speed benchmark and theta studies.

Each sample is a sum of local, AU-like displacement patches d * g(x - p) (g a Gaussian) on a
28x28-style face grid, plus subject-specific jitter, distractor patches and noise. A class is
defined by where its patches are and which way they move; the motion directions are near
vertical and all rotated by `angle_deg` (image coordinates, x right, y down; positive angles
turn a downward motion towards -x), as `fsr synth --angle` does on real face images. Strain is
computed from the field as in preprocessing: sqrt(ux^2 + vy^2 + 0.5 (uy + vx)^2).
"""

from __future__ import annotations

import math

import numpy as np

# Class patterns on a face of side 1 centred at 0 (y down): (x, y, direction in degrees where
# 90 = down, -90 = up), mirrored pairs like real action units (brows, lip corners).
CLASS_PATTERNS = (
    ((-0.2, -0.22, 80.0), (0.2, -0.22, 100.0)),  # brow lowerer, pulled inwards (AU4-like)
    ((-0.2, 0.25, -100.0), (0.2, 0.25, -80.0)),  # lip corners up and out (AU12-like)
    ((-0.2, -0.22, -90.0), (0.2, -0.22, -90.0), (0.0, 0.38, 90.0)),  # brows up, jaw drop (AU1+2+26)
)


def _patch(size: int, cx: float, cy: float, sigma: float, direction: float, band: float) -> np.ndarray:
    """A Gaussian bump, `band` times longer across the motion direction than along it."""
    c = (np.arange(size) - (size - 1) / 2) / size
    dx, dy = c[None, :] - cx, c[:, None] - cy
    along = dx * math.cos(direction) + dy * math.sin(direction)
    across = -dx * math.sin(direction) + dy * math.cos(direction)
    return np.exp(-(along**2 + (across / band) ** 2) / (2 * sigma**2))  # (size, size), rows = y


def strain(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    uy, ux = np.gradient(u)
    vy, vx = np.gradient(v)
    return np.sqrt(ux**2 + vy**2 + 0.5 * (uy + vx) ** 2)


def toy_flows(
    *,
    n_samples: int = 442,
    n_groups: int = 68,
    n_classes: int = 3,
    size: int = 28,
    app_size: int = 32,
    angle_deg: float = 0.0,
    noise: float = 0.15,
    band: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Generate a labelled toy set.

    Returns:
        {"flow": (N, 3, size, size) float32, "app": (N, 1, app_size, app_size) float32,
         "y": (N,) int64, "groups": (N,) int64}
    """
    rng = np.random.default_rng(seed)
    groups = np.sort(rng.integers(0, n_groups, n_samples))
    y = rng.integers(0, n_classes, n_samples)
    shift = rng.normal(0, 0.03, (n_groups, 2))  # subject face geometry
    gain = rng.uniform(0.6, 1.4, n_groups)  # subject expressiveness
    faces = rng.normal(0, 1, (n_groups, app_size // 4, app_size // 4))  # subject appearance
    rot = math.radians(angle_deg)
    flow = np.zeros((n_samples, 3, size, size), np.float32)
    app = np.zeros((n_samples, 1, app_size, app_size), np.float32)
    for i in range(n_samples):
        g, uv = groups[i], np.zeros((2, size, size))
        patches = [(x, yy, d, 1.0) for x, yy, d in CLASS_PATTERNS[y[i] % len(CLASS_PATTERNS)]]
        for _ in range(rng.integers(1, 3)):  # distractor motion anywhere, any direction
            patches.append((*rng.uniform(-0.35, 0.35, 2), rng.uniform(-180, 180), 0.6))
        for x, yy, d, amp in patches:
            a = math.radians(d + rng.normal(0, 8)) + rot
            field = _patch(size, x + shift[g, 0], yy + shift[g, 1], 0.06, a, band)
            field *= amp * gain[g] * rng.uniform(0.7, 1.3)
            uv += np.stack([field * math.cos(a), field * math.sin(a)])
        uv += rng.normal(0, noise, uv.shape)
        flow[i] = np.concatenate([uv, strain(*uv)[None]])
        app[i, 0] = np.kron(faces[g], np.ones((4, 4))) + rng.normal(0, 0.3, (app_size, app_size))
    return {"flow": flow, "app": app, "y": y.astype(np.int64), "groups": groups.astype(np.int64)}
