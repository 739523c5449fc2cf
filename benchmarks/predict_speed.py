"""`fsr predict` on 1 s, 10 s and 60 s clips at 200 fps, 640x480: wall time and peak memory, old path vs new.

Synthesises a clip (a real face photo with a known micro-expression in its first second,
fsr_cli.synth; neutral after it), writes it as an mp4 per duration, and measures, each in a
fresh process with the models loaded first (a run given with --run, else the facesleuth-r
network with random weights: the same computation as a trained one):

- old: the clip decoded whole into memory (BGR frames, then their grey copies), then the
  pipeline on the list: what `fsr predict` did before it streamed;
- new: `predict_clip`, which decodes the clip twice as it streams (face + drift, then the warp)
  and keeps only the 128 px crops.

Prints per duration the median wall time over REPEATS runs and its breakdown (load = decoding,
detect, align, spot, flow, model), and the process's peak resident memory (ru_maxrss), with the
resident memory after loading the models for reference. The old path is not run on 60 s: it
would hold 12,000 BGR frames (11 GB); their size is printed instead. Targets: 1 s clip < 1 s
wall, 10 s clip < 10 s, 60 s clip < 1 GiB resident.

Camera rows (--camera): the same clip upscaled into 1920x1080 at 30 fps and 3840x2160 at 25 fps
(5 s each; the face as large in the frame as at 640x480), each clip's `fsr predict` wall time beside
the time to merely decode it once, and `fsr spot` on a 60 s 1080p synthesised long video. Targets:
faster than real time.

    python benchmarks/predict_speed.py [--run RUN] [--repeats 3] [--threads 2] [--seconds 1,10,60]
    python benchmarks/predict_speed.py --camera [--seconds ""]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FPS = 200.0
WIDTH = 640  # x 480


def synth_mp4(path: Path, seconds: float, *, seed: int = 0) -> tuple[Path, int]:
    """A clip at 200 fps, 640x480, the expression in its first second; returns (path, true apex)."""
    import cv2

    from fsr_cli.synth import make_clip

    clip = make_clip(emotion="surprise", width=WIDTH, fps=FPS, margin=(40, 40), seed=seed)
    frames = list(clip.frames[: int(FPS)])
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h))
    for i in range(int(FPS * seconds)):
        f = frames[i] if i < len(frames) else frames[-1]  # neutral after the offset
        writer.write(np.ascontiguousarray(f[..., ::-1]))  # RGB -> BGR
    writer.release()
    return path, int(clip.spec.apex - clip.spec.first)


def upscaled_mp4(src: Path, path: Path, size: tuple[int, int], fps: float, seconds: float) -> Path:
    """src's frames scaled into a size (w, h) frame (letterboxed), written at fps for seconds."""
    import cv2

    w, h = size
    cap = cv2.VideoCapture(str(src))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    frame = None
    for _ in range(int(fps * seconds)):
        ok, f = cap.read()
        if ok:
            scale = h / f.shape[0]
            frame = np.zeros((h, w, 3), np.uint8)
            f = cv2.resize(f, (round(f.shape[1] * scale), h), interpolation=cv2.INTER_CUBIC)
            x = (w - f.shape[1]) // 2
            frame[:, x : x + f.shape[1]] = f
        writer.write(frame)
    writer.release()
    return path


def decode_seconds(video: Path) -> float:
    import cv2

    t = time.perf_counter()
    cap = cv2.VideoCapture(str(video))
    while cap.read()[0]:
        pass
    return time.perf_counter() - t


def camera_rows(tmp: Path, ckpt: Path, args) -> None:
    from fsr_cli.synth import write_dataset

    src, _ = synth_mp4(tmp / "src.mp4", 1.0)
    print("\ncamera footage: fsr predict (median of repeats, models loaded) beside one decoding pass")
    for (w, h), fps in (((1920, 1080), 30.0), ((3840, 2160), 25.0)):
        video = upscaled_mp4(src, tmp / f"cam{h}.mp4", (w, h), fps, 5.0)
        new = measure("new", video, ckpt, args)
        dec = decode_seconds(video)
        verdict = "met" if new["wall"] < 5.0 else "NOT met"
        print(f"  {w}x{h} {fps:g} fps, 5 s: predict {new['wall']:.2f} s, decode only {dec:.2f} s "
              f"({verdict}: faster than real time)")  # fmt: skip
    out = write_dataset(
        tmp / "long", layout="long", subjects=1, clips=1, seed=0, size=640, seconds=60.0, fps=30.0
    )
    video = upscaled_mp4(next(out.rglob("*.mp4")), tmp / "long1080.mp4", (1920, 1080), 30.0, 60.0)
    from fsr_cli.spot import spot_video

    t = time.perf_counter()
    spotted = spot_video(video)
    wall = time.perf_counter() - t
    print(f"  fsr spot, 60 s of 1920x1080 at 30 fps: {wall:.1f} s ({60 / wall:.2f}x real time), "
          f"decode only {decode_seconds(video):.1f} s; stages {spotted.seconds}")  # fmt: skip


def rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident memory now (MB), from /proc (the peak where there is no procfs)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss_mb()


def old_path(video: Path, predictor) -> dict:
    """Decode the whole clip, keep BGR and grey copies, run the pipeline on the list, then the model."""
    from fsr_cli.predict import probabilities
    from fsr_cli.predict.video import read_clip
    from fsr_cli.preprocess.pipeline import prepare_clip, to_grey

    t0 = time.perf_counter()
    clip = read_clip(video)
    frames = list(clip.stream())
    grey = [to_grey(f) for f in frames]
    load = time.perf_counter() - t0
    out = prepare_clip(grey, size=predictor.crop, fps=clip.fps, remove_drift=predictor.remove_drift)
    t1 = time.perf_counter()
    probabilities(predictor, out)
    names = {"face": "detect", "apex": "spot"}
    timings = {names.get(k, k): v for k, v in out["timings"].items()}
    timings["load"] = load
    timings["model"] = time.perf_counter() - t1
    return {"timings": timings, "frames": len(frames), "apex": out["apex_index"]}


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


def worker(mode: str, video: Path, checkpoint: Path, run: Path | None, repeats: int, threads: int) -> None:
    """One measurement in this (fresh) process; prints one JSON line."""
    import cv2
    import torch

    from fsr_cli.predict import load_predictor, predict_clip

    cv2.setNumThreads(threads)
    torch.set_num_threads(1)  # as `fsr predict` does
    predictor = load_predictor(run=run) if run else load_predictor(checkpoint=checkpoint)
    loaded = current_rss_mb()
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        result = predict_clip(video, predictor) if mode == "new" else old_path(video, predictor)
        result["wall"] = time.perf_counter() - t
        runs.append(result)
    apex = runs[-1]["apex"]["frame"] if mode == "new" else runs[-1]["apex"]
    print(
        json.dumps(
            {
                "wall": statistics.median(r["wall"] for r in runs),
                "timings": {
                    k: statistics.median(r["timings"].get(k, 0.0) for r in runs) for k in runs[0]["timings"]
                },
                "frames": runs[-1]["frames"],
                "apex": apex,
                "rss_loaded_mb": loaded,
                "rss_peak_mb": rss_mb(),
                "model": predictor.kind,
            }
        )
    )


def measure(mode: str, video: Path, checkpoint: Path, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, str(video), str(checkpoint)]
    cmd += ["--repeats", str(args.repeats), "--threads", str(args.threads)]
    if args.run:
        cmd += ["--run", str(args.run)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from fsr_cli.predict import TIMING_KEYS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="a run folder of `fsr train` (default: random weights)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="OpenCV threads (cores)")
    ap.add_argument("--seconds", default="1,10,60", help="clip durations, comma-separated")
    ap.add_argument("--camera", action="store_true", help="also the 1080p / 4K rows and spotting 1080p")
    ap.add_argument("--worker", nargs=3, metavar=("MODE", "VIDEO", "CHECKPOINT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        mode, video, ckpt = args.worker
        return worker(mode, Path(video), Path(ckpt), args.run, args.repeats, args.threads)

    targets = {1.0: ("wall", 1.0), 10.0: ("wall", 10.0), 60.0: ("rss_peak_mb", 1024.0)}
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = random_checkpoint(Path(tmp) / "model.pt")
        print(f"640x480, {FPS:.0f} fps; cv2 threads {args.threads}, torch 1 thread; median of {args.repeats}")
        for seconds in (float(x) for x in args.seconds.split(",") if x):
            video, true_apex = synth_mp4(Path(tmp) / f"clip{seconds:g}.mp4", seconds)
            modes = ("old", "new") if seconds <= 10 else ("new",)
            res = {m: measure(m, video, ckpt, args) for m in modes}
            new = res["new"]
            head = f"{seconds:g} s clip: {new['frames']} frames, apex at {new['apex']} (true {true_apex})"
            print(f"\n{head}", flush=True)
            print(f"  {'':7}" + "".join(f"{m:>10}" for m in modes))
            for key in TIMING_KEYS:
                print(f"  {key:<7}" + "".join(f"{res[m]['timings'].get(key, 0.0):9.3f}s" for m in modes))
            print(f"  {'wall':<7}" + "".join(f"{res[m]['wall']:9.3f}s" for m in modes))
            print(
                f"  {'peak':<7}"
                + "".join(f"{res[m]['rss_peak_mb']:8.0f}MB" for m in modes)
                + f"   (resident after loading the models: {new['rss_loaded_mb']:.0f} MB)"
            )
            if "old" not in res:
                held = new["frames"] * 480 * WIDTH * 4 / 2**30  # BGR + grey copies
                print(f"  old path not run: it would hold {held:.1f} GiB of frames")
            key, limit = targets.get(seconds, ("wall", seconds))
            value = new[key]
            unit = "MB" if key == "rss_peak_mb" else "s"
            verdict = "met" if value < limit else "NOT met"
            print(f"  target: new {key} {value:.2f} {unit} < {limit:g} {unit}: {verdict}")
        if args.camera:
            camera_rows(Path(tmp), ckpt, args)


if __name__ == "__main__":
    main()
