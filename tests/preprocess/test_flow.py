import cv2
import numpy as np
import pytest

from fsr_cli.preprocess import align, flow

# Mean endpoint error TV-L1 must reach on the smooth sub-pixel warp below (measured: ~0.06 px).
TVL1_MAX_EPE = 0.12


@pytest.fixture(scope="module")
def aligned_face(astronaut, astronaut_landmarks):
    _, points = astronaut_landmarks
    return align.warp(astronaut, align.alignment_matrix(points, size=128), size=128)


def smooth_field(size: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth displacement field under one pixel everywhere (mean magnitude ~0.5 px)."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    u = 0.6 * np.sin(2 * np.pi * xs + 0.3) * np.cos(2 * np.pi * 0.7 * ys) + 0.2
    v = 0.7 * np.cos(2 * np.pi * 0.6 * xs) * np.sin(2 * np.pi * 1.2 * ys + 0.5) - 0.1
    return u.astype(np.float32), v.astype(np.float32)


def warp_by(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The image whose content moved by (u, v): I1(x) = I0(x - w(x)) (w smooth, so ~exact)."""
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]].astype(np.float32)
    out = cv2.remap(image.astype(np.float32), xs - u, ys - v, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def mean_epe(est: np.ndarray, u: np.ndarray, v: np.ndarray) -> float:
    inner = np.s_[8:-8, 8:-8]  # the border has no content to match
    return float(np.hypot(est[..., 0] - u, est[..., 1] - v)[inner].mean())


def test_tvl1_recovers_a_known_subpixel_warp_of_a_real_face(aligned_face):
    u, v = smooth_field(128)
    moved = warp_by(aligned_face, u, v)
    tv = mean_epe(flow.tvl1(aligned_face, moved), u, v)
    fb = mean_epe(flow.farneback(aligned_face, moved), u, v)
    assert tv < TVL1_MAX_EPE
    assert tv < fb  # the reason the pipeline pays for TV-L1


def test_strain_of_a_linear_field_is_the_formula():
    a, b, c, d = 0.03, -0.02, 0.05, 0.01  # u = a x + b y, v = c x + d y
    ys, xs = np.mgrid[0:40, 0:50].astype(np.float64)
    strain = flow.optical_strain(a * xs + b * ys, c * xs + d * ys)
    expected = np.sqrt(a**2 + d**2 + 0.5 * (b + c) ** 2)
    assert strain.dtype == np.float32
    assert np.allclose(strain, expected, atol=1e-7)


def test_flow_and_strain_is_u_v_strain_float32(aligned_face):
    u, v = smooth_field(128)
    out = flow.flow_and_strain(aligned_face, warp_by(aligned_face, u, v))
    assert out.shape == (3, 128, 128) and out.dtype == np.float32
    assert np.array_equal(out[2], flow.optical_strain(out[0], out[1]))
    assert np.median(out[0]) == pytest.approx(np.median(u), abs=0.1)  # u is x, v is y
    assert np.median(out[1]) == pytest.approx(np.median(v), abs=0.1)
