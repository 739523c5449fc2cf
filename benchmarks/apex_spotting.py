"""Apex spotting error on synthesised clips of every layout, against their ground truth.

For each layout `fsr synth` writes (casme2, samm, smic: frame folders read by the dataset
readers; video: mp4 files with neutral frames around the expression), the pipeline's face ->
align -> apex stages run on every clip with the annotation's apex ignored (apex=None), exactly
as for SMIC, CASME II's '/' rows and raw video. Frame-folder clips are spotted between the
annotated onset and offset; a video is spotted over all its frames (onset = first frame), as
`fsr predict` does. Prints |spotted - true| apex in frames (median, mean, max) and the median
in milliseconds. Target: median <= 3 frames at 200 fps.

    python benchmarks/apex_spotting.py [--subjects 3] [--clips 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np

LAYOUTS = ("casme2", "samm", "smic", "video")


def truth(root: Path) -> dict[str, int]:
    """Clip uid (layout/subject/clip) -> true apex (frame number; 0-based index for video)."""
    with open(root / "fsr_ground_truth.csv") as f:
        return {f"{r['dataset']}/{r['subject']}/{r['clip']}": int(r["apex"]) for r in csv.DictReader(f)}


def spot_folders(root: Path) -> tuple[dict[str, int], float]:
    """Spotted apex frame number per clip of a frame-folder dataset, and its fps."""
    import cv2

    from fsr_cli.data import read_dataset
    from fsr_cli.preprocess import prepare_clip

    table = read_dataset(root)
    out = {}
    for s in table.samples:
        frames = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in s.frames]
        res = prepare_clip(frames, onset=0, apex=None, offset=len(frames) - 1, fps=s.fps)
        out[s.uid] = s.frame_numbers[res["apex_index"]]
    return out, table.samples[0].fps


def spot_videos(root: Path, rows: dict[str, int]) -> tuple[dict[str, int], float]:
    import cv2

    from fsr_cli.preprocess import prepare_clip

    out, fps = {}, 0.0
    for uid in rows:
        cap = cv2.VideoCapture(str(root / "clips" / f"{uid.split('/')[-1]}.mp4"))
        fps = cap.get(cv2.CAP_PROP_FPS)
        frames = []
        while (ok_frame := cap.read())[0]:
            frames.append(ok_frame[1])
        cap.release()
        out[uid] = prepare_clip(frames, onset=None, apex=None, fps=fps)["apex_index"]
    return out, fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=3)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from fsr_cli.synth import write_dataset

    print(f"{'layout':>8} {'clips':>6} {'fps':>5} {'median':>7} {'mean':>6} {'max':>4} {'median ms':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for layout in LAYOUTS:
            root = write_dataset(
                Path(tmp) / layout, layout=layout, subjects=args.subjects, clips=args.clips, seed=args.seed
            )
            rows = truth(root)
            spotted, fps = spot_videos(root, rows) if layout == "video" else spot_folders(root)
            err = np.array([abs(spotted[uid] - rows[uid]) for uid in spotted])
            med = float(np.median(err))
            print(
                f"{layout:>8} {len(err):6d} {fps:5.0f} {med:7.1f} {err.mean():6.2f} {err.max():4d}"
                f" {1000 * med / fps:10.1f}"
            )
    print("target: median <= 3 frames at 200 fps")


if __name__ == "__main__":
    main()
