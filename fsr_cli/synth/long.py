"""Long synthesised videos for spotting: one person, minutes long, several micro-expressions of
known class and timing among the distractors real recordings have.

    plan_long(rng, seconds=, fps=, iod=)   the events of one video (LongEvent), in time order
    iter_long_frames(identity, events, ...)  its frames, one warp each
    write_long_video(path, identity, events, fps=, frames=)

Events (times in seconds; each has onset <= apex <= offset):

    micro     an emotion's action units, 0.2-0.45 s from onset to offset, 1-2 px at a 128-px face
              (as the short clips); scored as micro-expressions
    macro     an emotion at 4-6x that strength, rising over 0.3-0.6 s, held 0.5-2 s, falling over
              0.4-0.8 s (MEGC's macro-expressions: longer than 0.5 s); in the truth as "macro"
    blink     the upper lids closing (AU45) over 0.05-0.08 s and opening over 0.1-0.15 s, every
              2-6 s, anywhere (also during a micro-expression: spotting must mask the eyes)
    speech    the jaw dropping and closing (AU26) at 3-5 Hz for 1-3 s, each syllable its own depth
    nod       the head down and back (0.05-0.12 inter-ocular distances) with a slight roll, 0.6-1 s
    turn      the head turned aside and back (a shift and a horizontal squeeze, the look of a
              small yaw), 0.8-1.5 s

Micro-expressions keep 0.5 s clear of the other non-blink events, so each true interval is one
micro-expression and no more; everything else is drawn independently. These are mechanism checks:
real long videos (CAS(ME)^2, SAMM long) are far harder, and the MEGC literature scores far lower.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli.errors import FsrError
from fsr_cli.synth.face import Identity
from fsr_cli.synth.motion import action_units, au_code, unit_field
from fsr_cli.synth.render import NOISE_SIGMA, PEAK_PX_128

KINDS = ("micro", "macro", "blink", "speech", "nod", "turn")
EXPRESSION_KINDS = ("micro", "macro")  # what the ground truth lists
EMOTIONS = ("happiness", "surprise", "disgust", "repression", "anger", "sadness")
CLEAR_S = 0.5  # a micro-expression's distance from other non-blink events
# Scheduled events alternate: a micro-expression, then a distractor drawn with these odds.
ODDS = {"macro": 0.2, "speech": 0.35, "nod": 0.25, "turn": 0.2}


@dataclass(frozen=True)
class LongEvent:
    kind: str
    onset: float  # seconds
    apex: float
    offset: float
    emotion: str = ""  # micro / macro
    units: tuple[tuple[str, float], ...] = ()
    peak: float = 0.0  # expressions, blinks, speech: peak displacement in inter-ocular distances;
    # nods and turns: the head's shift in inter-ocular distances
    hold: float = 0.0  # macro: seconds held at the apex
    rate_hz: float = 0.0  # speech: syllables per second
    seed: int = 0  # speech: each syllable's depth

    def frames(self, fps: float) -> tuple[int, int, int]:
        """(onset, apex, offset) as 0-based frame indices of a video at fps."""
        return round(self.onset * fps), round(self.apex * fps), round(self.offset * fps)

    def intensity(self, t: np.ndarray) -> np.ndarray:
        """0..1 at times t (seconds): the event's profile."""
        t = np.asarray(t, np.float64)
        if self.kind == "speech":
            k = np.floor((t - self.onset) * self.rate_hz)
            depth = 0.5 + 0.5 * np.random.default_rng(self.seed).random(64)[np.clip(k, 0, 63).astype(int)]
            wave = np.sin(np.pi * ((t - self.onset) * self.rate_hz % 1.0)) ** 2
            return np.where((t >= self.onset) & (t <= self.offset), depth * wave, 0.0)
        return _rise_fall(t, self.onset, self.apex, self.offset, hold=self.hold)


def _rise_fall(t: np.ndarray, onset: float, apex: float, offset: float, hold: float = 0.0) -> np.ndarray:
    """sin^2 rise from onset to apex, held for `hold` seconds, sin^2 fall to zero at offset."""
    end = apex + hold
    rise = np.sin(0.5 * np.pi * np.clip((t - onset) / max(apex - onset, 1e-6), 0, 1)) ** 2
    fall = np.sin(0.5 * np.pi * (1 - np.clip((t - end) / max(offset - end, 1e-6), 0, 1))) ** 2
    return np.minimum(rise, fall)


def _draw(kind: str, rng: np.random.Generator, start: float) -> LongEvent:
    u = rng.uniform
    if kind == "micro":
        emotion = EMOTIONS[int(rng.integers(len(EMOTIONS)))]
        rise, fall = u(0.06, 0.15), u(0.12, 0.3)
        peak = u(*PEAK_PX_128) / 128 / 0.38  # 1-2 px at a 128-px face, whose IOD is 0.38 of it
        return LongEvent(kind, start, start + rise, start + rise + fall, emotion, action_units(emotion), peak)
    if kind == "macro":
        emotion = EMOTIONS[int(rng.integers(len(EMOTIONS)))]
        rise, hold, fall = u(0.3, 0.6), u(0.5, 2.0), u(0.4, 0.8)
        peak = u(4, 6) * u(*PEAK_PX_128) / 128 / 0.38
        units = action_units(emotion)
        return LongEvent(kind, start, start + rise, start + rise + hold + fall, emotion, units, peak, hold)
    if kind == "speech":
        span = u(1.0, 3.0)
        return LongEvent(
            kind, start, start + span / 2, start + span, units=(("26", 1.0),), peak=u(0.04, 0.08),
            rate_hz=u(3, 5), seed=int(rng.integers(2**31)),
        )  # fmt: skip
    if kind == "nod":
        span = u(0.6, 1.0)
        return LongEvent(kind, start, start + span / 2, start + span, peak=u(0.05, 0.12))
    if kind == "turn":
        span = u(0.8, 1.5)
        return LongEvent(kind, start, start + span / 2, start + span, peak=u(0.1, 0.25))
    rise, fall = u(0.05, 0.08), u(0.1, 0.15)  # blink
    blink = (("45", 1.0),)
    return LongEvent("blink", start, start + rise, start + rise + fall, units=blink, peak=u(0.12, 0.18))


def plan_long(rng: np.random.Generator, *, seconds: float) -> list[LongEvent]:
    """The events of one video of `seconds`, in onset order: scheduled events one after another
    with 0.8-2.5 s between them, every other one a micro-expression (about ten a minute), blinks
    independently every 2-6 s."""
    events, t = [], 1.0
    kinds, odds = list(ODDS), np.array(list(ODDS.values()))
    while True:
        distractor = kinds[int(rng.choice(len(kinds), p=odds / odds.sum()))]
        kind = "micro" if not events or events[-1].kind != "micro" else distractor
        near_micro = kind == "micro" or (events and events[-1].kind == "micro")
        gap = rng.uniform(0.8, 2.5) + (CLEAR_S if near_micro else 0.0)
        e = _draw(kind, rng, t + gap)
        if e.offset > seconds - 1.0:
            break
        events.append(e)
        t = e.offset
    t = rng.uniform(0.5, 3.0)
    while t < seconds - 0.5:
        events.append(_draw("blink", rng, t))
        t += rng.uniform(2.0, 6.0)
    return sorted(events, key=lambda e: e.onset)


def _head(events: list[LongEvent], t: float, iod: float, centre: np.ndarray) -> np.ndarray:
    """Backward affine (2, 3): output pixel -> neutral-face pixel, for the head pose at time t."""
    dx = dy = roll = 0.0
    squeeze = 1.0
    for e in events:
        if e.kind in ("nod", "turn") and e.onset <= t <= e.offset:
            a = float(_rise_fall(np.array(t), e.onset, e.apex, e.offset))
            if e.kind == "nod":
                dy += a * e.peak * iod
                roll += a * 1.5
            else:
                dx += a * e.peak * iod
                squeeze *= 1 - 0.06 * a
    r = np.radians(roll)
    fwd = np.array([[squeeze * np.cos(r), -np.sin(r)], [squeeze * np.sin(r), np.cos(r)]])
    inv = np.linalg.inv(fwd)
    shift = centre + np.array([dx, dy])
    return np.hstack([inv, (centre - inv @ shift)[:, None]]).astype(np.float32)


def iter_long_frames(
    identity: Identity, events: list[LongEvent], *, fps: float, frames: int, seed: int
) -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 RGB frames: the expressions' fields summed, then the head pose, then noise."""
    import cv2

    h, w = identity.image.shape[:2]
    left, right = identity.landmarks[36:42].mean(0), identity.landmarks[42:48].mean(0)
    iod, centre = float(np.linalg.norm(right - left)), identity.landmarks.mean(0).astype(np.float64)
    fields: dict[tuple, np.ndarray] = {}
    local = [e for e in events if e.units]
    for e in local:
        if e.units not in fields:
            fields[e.units] = unit_field(identity.landmarks, e.units, width=w, height=h)
    xs, ys = (g.astype(np.float32) for g in np.meshgrid(np.arange(w), np.arange(h)))
    grain = np.empty((h, w, 1 if identity.grey else 3), np.float32)
    for i in range(frames):
        t = i / fps
        mat = _head(events, t, iod, centre)
        sx = mat[0, 0] * xs + mat[0, 1] * ys + mat[0, 2]
        sy = mat[1, 0] * xs + mat[1, 1] * ys + mat[1, 2]
        disp = None
        for e in local:
            if e.onset <= t <= e.offset:
                a = float(e.intensity(np.array(t)))
                if a > 0:
                    part = fields[e.units] * np.float32(a * e.peak * iod)
                    disp = part if disp is None else disp + part
        if disp is not None:  # the expression moves with the head: sampled where the pixel sits
            d = cv2.remap(disp, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            sx, sy = sx - d[..., 0], sy - d[..., 1]
        frame = cv2.remap(identity.image, sx, sy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
        cv2.setRNGSeed((seed + i) % 2**31)
        cv2.randn(grain.reshape(h, -1), 0.0, NOISE_SIGMA)
        yield cv2.add(frame, np.repeat(grain, 3, axis=-1) if identity.grey else grain, dtype=cv2.CV_8U)


def write_long_video(
    path: Path,
    identity: Identity,
    events: list[LongEvent],
    *,
    fps: float,
    frames: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Encode the video as mp4v; progress(frames written) every second of video."""
    import cv2

    h, w = identity.image.shape[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise FsrError(f"OpenCV cannot write mp4v video {path}; check the opencv build (`fsr checks`)")
    try:
        step = max(1, round(fps))
        for i, frame in enumerate(iter_long_frames(identity, events, fps=fps, frames=frames, seed=seed)):
            writer.write(np.ascontiguousarray(frame[..., ::-1]))
            if progress and (i + 1) % step == 0:
                progress(i + 1)
    finally:
        writer.release()


def truth_rows(subject: str, video: str, events: list[LongEvent], fps: float) -> list[dict]:
    """The expressions of a video as MEGC spotting annotations (0-based frame indices)."""
    rows = []
    for e in events:
        if e.kind in EXPRESSION_KINDS:
            onset, apex, offset = e.frames(fps)
            rows.append(
                {
                    "subject": subject,
                    "video": video,
                    "onset": onset,
                    "apex": apex,
                    "offset": offset,
                    "type": e.kind,
                    "emotion": e.emotion,
                    "aus": au_code(e.units),
                }
            )
    return rows
