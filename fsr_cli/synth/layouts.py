"""The native layouts `fsr synth` writes: names, frame numbering, frame files, vocabularies.

    casme2  CASME2_RAW_selected/sub01/EP02_01f/img46.jpg          colour JPEG, 200 fps, onset..offset
    samm    SAMM/006/006_1_2/006_05562.jpg                         grey JPEG, 200 fps, a few frames around
    smic    SMIC_all_raw/HS/s1/micro/negative/s1_ne_01/image059700.bmp   colour BMP, 100 fps, onset..offset
    video   clips/sub01_01.mp4                                     mp4v, 200 fps, neutral frames around
    long    long_videos/01/01_01.mp4                               mp4v, 30 fps (--fps), minutes long,
                                                                   several expressions among
                                                                   distractors (synth/long.py)

Frame numbers are absolute, as in the releases: a CASME II clip starts at a number like 46.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fsr_cli.data.labels import normalise_emotion
from fsr_cli.synth.face import Identity
from fsr_cli.synth.render import ClipSpec, draw_spec


@dataclass(frozen=True)
class Layout:
    name: str
    fps: float
    width: int  # default frame width; height is 3/4 of it
    grey: bool
    emotions: tuple[str, ...]  # native spellings, dealt round-robin over a subject's clips
    margin: tuple[int, int]  # neutral frames before onset / after offset (range)
    first: tuple[int, int]  # range of a clip's first frame number


_CASME2_EMOTIONS = ("happiness", "disgust", "surprise", "repression", "others")
_SAMM_EMOTIONS = ("Happiness", "Anger", "Surprise", "Contempt", "Other")
LAYOUTS: dict[str, Layout] = {
    "casme2": Layout("casme2", 200.0, 320, False, _CASME2_EMOTIONS, margin=(0, 0), first=(10, 300)),
    "samm": Layout("samm", 200.0, 320, True, _SAMM_EMOTIONS, margin=(2, 6), first=(1000, 9000)),
    "smic": Layout("smic", 100.0, 256, False, ("positive", "negative", "surprise"), (0, 0), (1000, 900000)),
    "video": Layout("video", 200.0, 640, False, ("happiness", "disgust", "surprise"), (10, 20), (0, 0)),
    "long": Layout("long", 30.0, 640, False, (), (0, 0), (0, 0)),
}
SPOT_TRUTH = "fsr_spot_truth.csv"  # the long layout's ground truth, MEGC-shaped (fsr_cli.spot.megc)
SMIC_ABBR = {"negative": "ne", "positive": "po", "surprise": "sur"}


@dataclass(frozen=True)
class PlannedClip:
    """One clip of a dataset: its native names and what to render."""

    subject: str  # as the dataset spells it: '01', '006', 's1'
    clip: str  # 'EP02_01f', '006_1_2', 's1_ne_01', 'sub01_01'
    native_emotion: str  # as the annotation or folder writes it
    spec: ClipSpec

    @property
    def emotion(self) -> str:
        return self.spec.emotion


def layout_code(name: str) -> int:
    """A stable number per layout for seeding (str hashes change between runs)."""
    return zlib.crc32(name.encode())


def subject_rng(seed: int, layout: str, subject_index: int) -> np.random.Generator:
    return np.random.default_rng([seed, layout_code(layout), subject_index])


def subject_name(layout: str, s: int) -> str:
    """The dataset's own spelling of the s-th (0-based) subject."""
    return {"casme2": f"{s + 1:02d}", "samm": f"{s + 6:03d}", "smic": f"s{s + 1}"}.get(layout, f"{s + 1:02d}")


def plan_subject(
    layout: Layout, s: int, identity: Identity, *, clips: int, seed: int, angle_deg: float
) -> list[PlannedClip]:
    """Names, emotions and specs of the `clips` clips of subject s (0-based)."""
    subject = subject_name(layout.name, s)
    out, counts = [], {}
    for k in range(clips):
        rng = np.random.default_rng([seed, layout_code(layout.name), s, k, 1])
        native = layout.emotions[(k + s) % len(layout.emotions)]
        counts[native] = counts.get(native, 0) + 1
        first = int(rng.integers(layout.first[0], layout.first[1] + 1))
        spec = draw_spec(
            rng,
            emotion=normalise_emotion(native),
            fps=layout.fps,
            first=first,
            face_width=identity.face_width,
            angle_deg=angle_deg,
            margin=layout.margin,
        )
        name = _clip_name(layout.name, subject, k, native, counts[native], rng)
        out.append(PlannedClip(subject, name, native, spec))
    return out


def _clip_name(layout: str, subject: str, k: int, native: str, count: int, rng: np.random.Generator) -> str:
    if layout == "casme2":  # EP<episode>_<take>[f]; episodes increase so names never repeat
        ep, take = 1 + 2 * k + int(rng.integers(2)), int(rng.integers(1, 8))
        return f"EP{ep:02d}_{take:02d}{'f' if rng.random() < 0.3 else ''}"
    if layout == "samm":  # <subject>_<inducement>_<take>
        return f"{subject}_{k // 3 + 1}_{k % 3 + 2}"
    if layout == "smic":
        return f"{subject}_{SMIC_ABBR[native]}_{count:02d}"
    return f"sub{subject}_{k + 1:02d}"


def clip_dir(root: Path, layout: str, c: PlannedClip) -> Path:
    """Folder of a clip's frames (the video file's folder for `video`)."""
    if layout == "casme2":
        return root / "CASME2_RAW_selected" / f"sub{c.subject}" / c.clip
    if layout == "samm":
        return root / "SAMM" / c.subject / c.clip
    if layout == "smic":
        return root / "SMIC_all_raw" / "HS" / c.subject / "micro" / c.native_emotion / c.clip
    return root / "clips"


def frame_name(layout: str, c: PlannedClip, number: int) -> str:
    """The release's own file name of one frame."""
    if layout == "casme2":
        return f"img{number}.jpg"
    if layout == "samm":
        return f"{c.subject}_{number:05d}.jpg"
    if layout == "smic":
        return f"image{number:06d}.bmp"
    raise ValueError(f"layout {layout!r} stores videos, not frames")


def video_path(root: Path, c: PlannedClip) -> Path:
    return root / "clips" / f"{c.clip}.mp4"


def top_entries(layout: str) -> tuple[str, ...]:
    """Top-level files and folders a layout writes (what a rewrite removes first)."""
    return {
        "casme2": ("CASME2_RAW_selected", "CASME2-coding-20140508.xlsx"),
        "samm": ("SAMM", "SAMM_Micro_FACS_Codes_v2.xlsx"),
        "smic": ("SMIC_all_raw",),
        "video": ("clips",),
        "long": ("long_videos", SPOT_TRUTH),
    }[layout]
