"""Stage `flow`: TV-L1 optical flow onset -> apex and optical strain.

The flow is OpenCV contrib's Dual TV-L1 (Zach, Pock & Bischof 2007; Wedel et al. 2009) on the
aligned grey frames with the fixed parameters TVL1_PARAMS (OpenCV's defaults, which are also what
the MER literature that uses TV-L1 reports), so every artifact is reproducible from its key.
u is the horizontal, v the vertical displacement in pixels (x right, y down) such that
onset(x) ~ apex(x + (u, v)).

Optical strain is the magnitude of the infinitesimal strain tensor of (u, v):
sqrt(ux^2 + vy^2 + 0.5 (uy + vx)^2), with the derivatives from np.gradient (central differences
inside, one-sided at the border), in displacement per pixel.
"""

from __future__ import annotations

import numpy as np

STAGE = "flow"
VERSION = 1

TVL1_PARAMS = {
    "tau": 0.25,
    "lambda": 0.15,
    "theta": 0.3,
    "scales": 5,
    "warps": 5,
    "epsilon": 0.01,
    "inner_iterations": 30,
    "outer_iterations": 10,
    "scale_step": 0.8,
    "gamma": 0.0,
    "median_filtering": 5,
}


def tvl1(onset: np.ndarray, apex: np.ndarray) -> np.ndarray:
    """Dense TV-L1 flow (H, W, 2) float32 from grey uint8 `onset` to `apex` (same shape)."""
    import cv2

    p = TVL1_PARAMS
    algo = cv2.optflow.DualTVL1OpticalFlow_create(
        tau=p["tau"],
        lambda_=p["lambda"],
        theta=p["theta"],
        nscales=p["scales"],
        warps=p["warps"],
        epsilon=p["epsilon"],
        innnerIterations=p["inner_iterations"],
        outerIterations=p["outer_iterations"],
        scaleStep=p["scale_step"],
        gamma=p["gamma"],
        medianFiltering=p["median_filtering"],
    )
    return algo.calc(onset, apex, None)


def farneback(onset: np.ndarray, apex: np.ndarray) -> np.ndarray:
    """Farneback flow (H, W, 2) float32: the cheap alternative (benchmarks and apex spotting)."""
    import cv2

    return cv2.calcOpticalFlowFarneback(onset, apex, None, 0.5, 3, 9, 3, 5, 1.1, 0)


def optical_strain(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """sqrt(ux^2 + vy^2 + 0.5 (uy + vx)^2) of a flow field; u, v (H, W) -> (H, W) float32."""
    uy, ux = np.gradient(u.astype(np.float64))
    vy, vx = np.gradient(v.astype(np.float64))
    return np.sqrt(ux**2 + vy**2 + 0.5 * (uy + vx) ** 2).astype(np.float32)


def flow_and_strain(onset: np.ndarray, apex: np.ndarray) -> np.ndarray:
    """The motion input (3, H, W) float32: u, v and optical strain from onset to apex."""
    uv = tvl1(onset, apex)  # (H, W, 2)
    u, v = uv[..., 0], uv[..., 1]
    return np.stack([u, v, optical_strain(u, v)]).astype(np.float32)  # (3, H, W)
