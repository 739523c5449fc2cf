"""Flow accuracy: TV-L1 (the pipeline's flow) against Farneback on a real face with a known warp.

The astronaut photo (skimage) is aligned to the pipeline's canonical crop (dlib landmarks, as in
`fsr preprocess`), then warped by smooth random displacement fields of known sub-pixel size
(sums of low-frequency sinusoids, the scale of micro-expression motion); sensor noise is added
to both frames. Each method estimates the flow onset -> warped frame; the endpoint error
|estimate - truth| is averaged over the crop without an 8-px border (where content leaves the
image). Prints mean / median / 95th-percentile EPE and time per pair, per peak displacement.

    python benchmarks/flow_accuracy.py [--size 128] [--fields 8] [--noise 1.5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

PEAKS_PX = (0.5, 1.0, 2.0)


def smooth_field(size: int, peak: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random smooth field (u, v) whose largest displacement is `peak` pixels."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) / size
    u = np.zeros((size, size))
    v = np.zeros((size, size))
    for _ in range(3):
        fx, fy, px, py = rng.uniform(0.3, 1.5), rng.uniform(0.3, 1.5), *rng.uniform(0, 2 * np.pi, 2)
        u += rng.normal() * np.sin(2 * np.pi * fx * xs + px) * np.cos(2 * np.pi * fy * ys + py)
        v += rng.normal() * np.cos(2 * np.pi * fy * xs + py) * np.sin(2 * np.pi * fx * ys + px)
    scale = peak / np.hypot(u, v).max()
    return (u * scale).astype(np.float32), (v * scale).astype(np.float32)


def warp_by(image: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Content moved by (u, v): I1(x) = I0(x - w(x)), accurate for smooth w."""
    import cv2

    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]].astype(np.float32)
    return cv2.remap(image.astype(np.float32), xs - u, ys - v, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def noisy(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.round(image + rng.normal(0, sigma, image.shape)), 0, 255).astype(np.uint8)


def aligned_astronaut(size: int) -> np.ndarray:
    import cv2
    from skimage import data

    from fsr_cli.preprocess import align, face

    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    box, _ = face.detect_face(grey)
    return align.warp(grey, align.alignment_matrix(face.landmarks(grey, box), size=size), size=size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--fields", type=int, default=8, help="random fields per peak displacement")
    parser.add_argument("--noise", type=float, default=1.5, help="sensor noise sigma, grey levels")
    args = parser.parse_args()

    from fsr_cli.preprocess.flow import farneback, tvl1

    onset = aligned_astronaut(args.size)
    inner = np.s_[8:-8, 8:-8]
    rng = np.random.default_rng(0)
    size = f"{args.size}x{args.size}"
    print(f"real face (astronaut), aligned {size}, noise sigma {args.noise}, {args.fields} fields per row")
    print(f"{'peak px':>8} {'method':>10} {'mean EPE':>9} {'median':>8} {'p95':>8} {'ms/pair':>8}")
    for peak in PEAKS_PX:
        errors: dict[str, list[np.ndarray]] = {"tvl1": [], "farneback": []}
        seconds = {"tvl1": 0.0, "farneback": 0.0}
        for _ in range(args.fields):
            u, v = smooth_field(args.size, peak, rng)
            a, b = noisy(onset, args.noise, rng), noisy(warp_by(onset, u, v), args.noise, rng)
            for name, method in (("tvl1", tvl1), ("farneback", farneback)):
                t0 = time.perf_counter()
                est = method(a, b)
                seconds[name] += time.perf_counter() - t0
                errors[name].append(np.hypot(est[..., 0] - u, est[..., 1] - v)[inner].ravel())
        for name, errs in errors.items():
            e = np.concatenate(errs)
            ms = 1000 * seconds[name] / args.fields
            stats = f"{e.mean():9.3f} {np.median(e):8.3f} {np.percentile(e, 95):8.3f}"
            print(f"{peak:8.1f} {name:>10} {stats} {ms:8.1f}")


if __name__ == "__main__":
    main()
