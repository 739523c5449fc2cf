"""How long `fsr predict` takes on a 1-second 200 fps 640x480 clip, models already loaded.

Synthesises one clip (a real face photo with a known micro-expression, fsr_cli.synth), writes
it as an mp4, loads the model once (a run given with --run, else the facesleuth-r network with
random weights: the same computation as a trained one) and times the same library call as
`fsr predict` on it, REPEATS times. Prints the wall time and its breakdown (load = decoding the
video, detect, align, spot, flow, model) as the median over the repeats. Target: < 3 s on 2 cores.

    python benchmarks/predict_speed.py [--run RUN] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

FPS = 200.0
SECONDS = 1.0
WIDTH = 640  # x 480


def synth_mp4(path: Path, *, seed: int = 0) -> tuple[Path, int]:
    """A 1-second clip at 200 fps, 640x480, the expression in the middle; returns (path, true apex)."""
    import cv2

    from fsr_cli.synth import make_clip

    n = int(FPS * SECONDS)
    clip = make_clip(emotion="surprise", width=WIDTH, fps=FPS, margin=(40, 40), seed=seed)
    frames = list(clip.frames[:n])
    frames += [frames[-1]] * (n - len(frames))  # neutral after the offset
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h))
    for f in frames:
        writer.write(np.ascontiguousarray(f[..., ::-1]))  # RGB -> BGR
    writer.release()
    return path, int(clip.spec.apex - clip.spec.first)


def random_checkpoint(path: Path) -> Path:
    """The default network (facesleuth-r sizes) with random weights, saved as a checkpoint."""
    import torch

    from fsr_cli.model.checkpoint import save_checkpoint
    from fsr_cli.model.config import ModelConfig
    from fsr_cli.model.network import build_model

    torch.manual_seed(0)
    cfg = ModelConfig()
    norm = {"flow_mean": [0.0] * 3, "flow_std": [1.0] * 3, "app_mean": [0.5], "app_std": [0.25]}
    model = build_model(cfg)
    save_checkpoint(
        path, cfg=cfg, state_dict=model.state_dict(), classes=["negative", "positive", "surprise"], norm=norm
    )
    return path


def main() -> None:
    import cv2
    import torch

    from fsr_cli.predict import TIMING_KEYS, load_predictor, predict_clip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="a run folder of `fsr train` (default: random weights)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="OpenCV threads (cores)")
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    torch.set_num_threads(1)  # as `fsr predict` does

    with tempfile.TemporaryDirectory() as tmp:
        video, true_apex = synth_mp4(Path(tmp) / "clip.mp4")
        t0 = time.perf_counter()
        if args.run:
            predictor = load_predictor(run=args.run)
        else:
            predictor = load_predictor(checkpoint=random_checkpoint(Path(tmp) / "model.pt"))
        load_models = time.perf_counter() - t0
        runs = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            result = predict_clip(video, predictor)
            result["wall"] = time.perf_counter() - t
            runs.append(result)

    last = runs[-1]
    print(f"clip: {last['frames']} frames, 640x480, {FPS:.0f} fps; model: {predictor.kind}")
    print(f"models loaded once in {load_models:.2f} s (torch + dlib; not counted below)")
    print(f"apex spotted at frame {last['apex']['frame']} (true {true_apex}); box {last['face']['box']}")
    print(f"median of {args.repeats} runs, cv2 threads {args.threads}, torch threads 1:")
    for key in TIMING_KEYS:
        print(f"  {key:<7}{statistics.median(r['timings'][key] for r in runs):7.3f} s")
    wall = statistics.median(r["wall"] for r in runs)
    print(f"  {'wall':<7}{wall:7.3f} s  (target < 3 s on 2 cores: {'met' if wall < 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
