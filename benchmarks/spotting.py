"""`fsr spot` on synthesised long videos: MEGC precision, recall and F1 at IoU 0.5, and speed.

Writes `fsr synth --layout long` videos (one synthesised person each; micro-expressions of known
class and timing among blinks, speech, nods, head turns and macro-expressions; synth/long.py),
spots them through the CLI's function and scores them with the MEGC metric. Prints per video the
hits, spotted and true counts, and the wall time beside the video's own duration; then the
pooled figures. Target: F1 >= 0.8 at IoU 0.5.

These videos check the mechanism, not the field's difficulty: real long videos (CAS(ME)^2, SAMM
long videos) score far lower in the MEGC literature (F1 around 0.1-0.4 for micro-expressions).

    python benchmarks/spotting.py [--videos 4] [--seconds 60] [--fps 30,60,100,200] [--seed 0]
                                  [--width 640] [--keep DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=4, help="videos, each of another person and seed")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--fps", default="30,60,100,200", help="frame rates, dealt round the videos")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument(
        "--keep", type=Path, default=None, help="write the videos here (default: a temporary folder)"
    )
    args = ap.parse_args()

    from fsr_cli.spot import megc, spot_video
    from fsr_cli.synth import write_dataset
    from fsr_cli.synth.layouts import SPOT_TRUTH

    rates = [float(f) for f in args.fps.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        videos = []
        for k in range(args.videos):
            out = root / f"v{k}"
            t0 = time.perf_counter()
            fps = rates[k % len(rates)]
            write_dataset(out, layout="long", subjects=1, clips=1, seed=args.seed + k, size=args.width,
                          seconds=args.seconds, fps=fps)  # fmt: skip
            video = next((out / "long_videos").rglob("*.mp4"))
            videos.append((video, out / SPOT_TRUTH, fps, time.perf_counter() - t0))
        head = ("video", "fps", "true", "spotted", "hits", "F1", "wall s", "x real time")
        print(" ".join(f"{h:>{w}}" for h, w in zip(head, (8, 5, 5, 8, 5, 6, 7, 12), strict=True)))
        spotted, truth = {}, []
        for k, (video, truth_csv, fps, _) in enumerate(videos):
            rows = [r | {"video": f"v{k}"} for r in megc.read_truth(truth_csv)]
            t0 = time.perf_counter()
            s = spot_video(video)
            wall = time.perf_counter() - t0
            found = [(i["onset"], i["offset"]) for i in s.intervals]
            one = megc.evaluate({f"v{k}": found}, rows)
            spotted[f"v{k}"] = found
            truth += rows
            counts = f"{one['true']:>5} {one['spotted']:>8} {one['tp']:>5} {one['f1']:>6.3f}"
            print(f"{'v' + str(k):>8} {fps:>5g} {counts} {wall:>7.1f} {args.seconds / wall:>11.2f}x")
        e = megc.evaluate(spotted, truth)
        print(
            f"pooled over {len(videos)} videos of {args.seconds:g} s: precision {e['precision']:.3f}, "
            f"recall {e['recall']:.3f}, F1 {e['f1']:.3f} at IoU {e['iou']} ({e['tp']} hits, "
            f"{e['spotted']} spotted, {e['true']} true, {e['on_macro']} on macro-expressions); "
            "target F1 >= 0.8"
        )


if __name__ == "__main__":
    main()
