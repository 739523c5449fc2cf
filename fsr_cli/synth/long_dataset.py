"""`fsr synth --layout long`: long videos of synthesised people with their spotting ground truth.

long_videos/<subject>/<subject>_<k>.mp4   mp4v, minutes long (synth/long.py: the events)
fsr_spot_truth.csv                        MEGC-shaped: subject, video, onset, apex, offset,
                                          type (micro/macro), emotion, aus (0-based frames)
fsr_synth.json                            the marker, with every event of every video, the
                                          distractors included (blinks, speech, nods, turns)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fsr_cli import __version__
from fsr_cli.synth.face import make_identity
from fsr_cli.synth.layouts import SPOT_TRUTH, layout_code, subject_name, subject_rng, top_entries
from fsr_cli.synth.long import plan_long, truth_rows, write_long_video
from fsr_cli.synth.render import frame_height
from fsr_cli.synth.truth import MARKER


def video_path(root: Path, subject: str, k: int) -> Path:
    return root / "long_videos" / subject / f"{subject}_{k + 1:02d}.mp4"


def _marker(params: dict, width: int, fps: float, videos: list[dict], *, complete: bool) -> dict:
    return {
        "format": "fsr-synth",
        "version": 1,
        "fsr_version": __version__,
        "complete": complete,
        "layout": "long",
        "params": params,
        "frame_size": [width, frame_height(width)],
        "fps": fps,
        "n_clips": len(videos),
        "n_subjects": params["subjects"],
        "entries": list(top_entries("long")),
        "videos": videos,
    }


def write_long(
    out: Path,
    *,
    subjects: int,
    videos: int,
    seed: int,
    width: int,
    seconds: float,
    fps: float,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write `videos` long videos for each of `subjects` identities, and their truth; returns out."""
    from fsr_cli.spot.megc import write_truth

    params = {
        "subjects": subjects,
        "clips": videos,
        "seed": seed,
        "size": width,
        "seconds": seconds,
        "fps": fps,
    }
    (out / MARKER).write_text(json.dumps(_marker(params, width, fps, [], complete=False), indent=2))
    frames = int(round(seconds * fps))
    total, done, rows, record = subjects * videos * frames, 0, [], []
    for s in range(subjects):
        subject = subject_name("long", s)
        identity = make_identity(subject_rng(seed, "long", s), width=width, height=frame_height(width))
        for k in range(videos):
            rng = np.random.default_rng([seed, layout_code("long"), s, k])
            events = plan_long(rng, seconds=seconds)
            path = video_path(out, subject, k)
            base = done

            def tick(n: int, base: int = base) -> None:
                if progress:
                    progress(base + n, total)

            noise = int(rng.integers(2**31))
            write_long_video(path, identity, events, fps=fps, frames=frames, seed=noise, progress=tick)
            done += frames
            rows += truth_rows(subject, path.stem, events, fps)
            record.append(
                {
                    "subject": subject,
                    "video": str(path.relative_to(out)),
                    "frames": frames,
                    "events": [
                        {"kind": e.kind, "frames": list(e.frames(fps)), "emotion": e.emotion} for e in events
                    ],
                }
            )
    write_truth(out / SPOT_TRUTH, rows)
    (out / MARKER).write_text(json.dumps(_marker(params, width, fps, record, complete=True), indent=2) + "\n")
    return out
