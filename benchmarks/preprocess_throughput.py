"""Preprocessing throughput: `--workers N` against a plain sequential loop, and a warm-cache re-run.

Synthesises a CASME II-layout dataset (fsr_cli.synth: SUBJECTS x CLIPS clips of a real face
photo), then times, each on a fresh cache:

1. sequential: index, then `for sample: process_sample(sample)` in this process, then the
   manifest; the dlib models load on the first clip. Run twice: on one core (OpenCV limited to
   one thread: a sequential loop in the strict sense, the baseline of the 1.7x target) and with
   OpenCV's default threads (what `fsr preprocess --workers 1` does: TV-L1 then already runs on
   every core, so the pool can only add the part of the work OpenCV does not thread);
2. workers: `prepare_dataset(..., workers=N)` end to end (index, process pool start, clips,
   manifest), exactly what `fsr preprocess --workers N` runs;
3. warm: the same call again on the filled cache (every frame is read and hashed, nothing is
   computed).

4. per-clip cost: the one-core loop again with the models already loaded, in core-seconds per
   clip, against the cost of each clip's own TV-L1 pair (its aligned onset -> apex, read back
   from the cache, timed on one core): the pipeline around the flow should cost less than the
   flow itself.

Targets: workers / sequential (one core) >= 1.7x with 2 workers on 2 cores; cold / warm >= 50x;
per-clip cost <= 2x its TV-L1 pair.
Against the OpenCV-threaded loop the script also prints the arithmetic ceiling: its clip time
over half the one-core clip time (perfect use of both cores by the pool, no start-up cost).
Timings are wall clock and depend on what else the machine runs, so the script also prints the
load average and the machine's own speed-up on a perfectly parallel job of the same kind (TV-L1
in N processes against 1) measured just before: the ceiling for the pipeline's speed-up.

    python benchmarks/preprocess_throughput.py [--subjects 6] [--clips 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def sequential(root: Path, cache_root: Path, *, threads: int | None) -> float:
    """Seconds for index + a plain loop of process_sample + the manifest.

    `threads`: OpenCV's thread count for the loop (None: its default); restored afterwards.
    """
    import cv2

    from fsr_cli.cache import Cache
    from fsr_cli.data import read_dataset
    from fsr_cli.prepared import write_manifest
    from fsr_cli.preprocess import PreprocessConfig
    from fsr_cli.preprocess.pipeline import prepared_record, process_sample

    default = cv2.getNumThreads()
    cv2.setNumThreads(default if threads is None else threads)
    t0 = time.perf_counter()
    table = read_dataset(root)
    cache, config = Cache(cache_root), PreprocessConfig()
    records = []
    for sample in table.samples:
        entry, _ = process_sample(sample, cache=cache, config=config)
        records.append(prepared_record(sample, entry, cache.root))
    write_manifest(cache, dataset=table.dataset, source=root, params=config.params(), samples=records)
    seconds = time.perf_counter() - t0
    cv2.setNumThreads(default)
    return seconds


def tvl1_pairs(cache_root: Path) -> list[float]:
    """Seconds of each prepared clip's own TV-L1 + strain (onset -> apex), one core."""
    import cv2

    from fsr_cli.prepared import load_prepared
    from fsr_cli.preprocess.flow import flow_and_strain

    default = cv2.getNumThreads()
    cv2.setNumThreads(1)
    prepared = load_prepared(cache_root)
    out = []
    for s in prepared.samples:
        arrays = prepared.load(s)
        t0 = time.perf_counter()
        flow_and_strain(arrays["onset"], arrays["apex"])
        out.append(time.perf_counter() - t0)
    cv2.setNumThreads(default)
    return out


def _tvl1_job(repeats: int) -> None:
    import cv2
    import numpy as np

    from fsr_cli.preprocess.flow import tvl1

    cv2.setNumThreads(1)
    rng = np.random.default_rng(0)
    a = cv2.GaussianBlur(rng.integers(0, 255, (128, 128), dtype=np.uint8), (0, 0), 2)
    for _ in range(repeats):
        tvl1(a, np.roll(a, 1, axis=1))


def machine_parallelism(workers: int, repeats: int = 15) -> float:
    """Speed-up the machine gives right now to `workers` copies of a CPU-bound job."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # Not fork: forking a process whose OpenCV thread pool already ran can deadlock the child.
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver")) as pool:
        list(pool.map(_tvl1_job, [1] * workers))  # start the processes and import OpenCV
        t0 = time.perf_counter()
        pool.submit(_tvl1_job, repeats).result()
        one = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(pool.map(_tvl1_job, [repeats] * workers))
        many = time.perf_counter() - t0
    return workers * one / many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import cv2

    from fsr_cli.preprocess import prepare_dataset
    from fsr_cli.synth import write_dataset

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = write_dataset(
            tmp / "casme2", layout="casme2", subjects=args.subjects, clips=args.clips, seed=0
        )
        n = args.subjects * args.clips
        load = os.getloadavg()[0]
        ceiling = machine_parallelism(args.workers)
        threads = cv2.getNumThreads()
        seq1 = sequential(root, tmp / "seq1", threads=1)
        seq = sequential(root, tmp / "seq", threads=None)
        seq1_warm = sequential(root, tmp / "seq1-warm", threads=1)  # the models are loaded by now
        pairs = tvl1_pairs(tmp / "seq1")
        cold = prepare_dataset(root, cache_root=tmp / "par", workers=args.workers)
        warm = prepare_dataset(root, cache_root=tmp / "par", workers=args.workers)
        warm1 = prepare_dataset(root, cache_root=tmp / "par", workers=1)
        assert cold.computed == n and warm.cached == n and warm1.cached == n, "unexpected cache state"

    print(
        f"dataset: casme2 layout, {n} clips (320x240, 200 fps); cpus {os.cpu_count()}; load before {load:.2f}"
    )
    print(f"machine's speed-up on {args.workers} parallel TV-L1 jobs right now: {ceiling:.2f}x (the ceiling)")
    print(f"sequential loop, one core:{'':9}{seq1:7.2f} s  {n / seq1:6.2f} clips/s")
    print(f"sequential loop, OpenCV threads {threads}:{'':2}{seq:7.2f} s  {n / seq:6.2f} clips/s")
    print(
        f"--workers {args.workers}:{'':25}{cold.seconds:7.2f} s  {n / cold.seconds:6.2f} clips/s"
        f"   speed-up {seq1 / cold.seconds:.2f}x over the one-core loop (target >= 1.7x),"
        f" {seq / cold.seconds:.2f}x over the threaded loop"
        f" (ceiling {args.workers * seq / seq1:.2f}x)"
    )
    print(
        f"warm cache, --workers {args.workers}:{'':11}{warm.seconds:7.3f} s"
        f"   speed-up {cold.seconds / warm.seconds:.0f}x over the cold run (target >= 50x)"
    )
    ratio = cold.seconds / warm1.seconds
    print(f"warm cache, --workers 1:{'':11}{warm1.seconds:7.3f} s   speed-up {ratio:.0f}x")
    per_clip, pair = seq1_warm / n, sum(pairs) / n
    print(
        f"per-clip cost (one core, models loaded): {per_clip:.3f} core-s; its TV-L1 pair: {pair:.3f} s "
        f"(median {sorted(pairs)[n // 2]:.3f}); ratio {per_clip / pair:.2f} (target <= 2); "
        f"with --workers {args.workers} (pool start included): {cold.seconds * args.workers / n:.3f} core-s, "
        f"ratio {cold.seconds * args.workers / n / pair:.2f}"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
