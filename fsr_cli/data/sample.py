"""The one sample table every reader produces and every later stage consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """One micro-expression clip.

    Frame numbers are the dataset's own absolute numbers (CASME II clips may start at img46);
    `frames[i]` is the file of frame number `frame_numbers[i]`.
    `apex` is None where the annotation has none (SMIC, '/' in CASME II); later stages spot it.
    """

    dataset: str  # casme2 | samm | smic | casme3 | mmew | imported
    subject: str  # as the dataset spells it: '01', '006', 's1'
    clip: str  # 'EP02_01f', '006_1_2', 's1_ne_01'
    frames: tuple[Path, ...]
    frame_numbers: tuple[int, ...]
    onset: int
    apex: int | None
    offset: int
    emotion: str  # native emotion, lowercase ('happiness', 'others', 'negative' for SMIC)
    fps: float
    aus: str = ""
    source: str = ""  # where the row came from: 'file.xlsx:row 7' or a folder
    label3: str | None = field(default=None)  # composite class, filled by `labels.composite_label`

    @property
    def uid(self) -> str:
        return f"{self.dataset}/{self.subject}/{self.clip}"

    @property
    def group(self) -> str:
        """Subject id unique across datasets (the LOSO group)."""
        return f"{self.dataset}/{self.subject}"

    def frame_path(self, number: int) -> Path:
        return self.frames[self.frame_numbers.index(number)]

    def summary(self) -> dict:
        """The JSON-able record used by `fsr index --json` and the prepared manifest."""
        d = asdict(self)
        for k in ("frames", "frame_numbers", "fps", "source"):
            d.pop(k)
        return d


@dataclass(frozen=True)
class Problem:
    """A row or folder that was skipped, with where it is and why."""

    source: str  # 'CASME2-coding-20140508.xlsx:row 12' or a path
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class SampleTable:
    """What a reader returns: the good samples and the problems of the skipped rows."""

    dataset: str
    root: Path
    samples: list[Sample]
    problems: list[Problem] = field(default_factory=list)
