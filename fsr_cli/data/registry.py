"""Which reader reads a folder: detection by each release's marker file or folder, and dispatch."""

from __future__ import annotations

import importlib
from pathlib import Path

from fsr_cli.data.sample import SampleTable
from fsr_cli.errors import UsageError

KINDS = ("casme2", "samm", "smic", "casme3", "mmew")

# What auto-detection looks for, per kind (shown when nothing matches).
MARKERS = {
    "casme2": "CASME2-coding-*.xlsx",
    "samm": "SAMM_Micro_FACS_Codes*.xlsx",
    "smic": "SMIC_all_raw/HS/ or HS/ or s1/micro/ or [HS_long/]SMIC-HS-E_annotation.xlsx",
    "casme3": "cas(me)3_part_A_ME_label_JpgIndex*.xlsx",
    "mmew": "MMEW_Micro_Exp*.xlsx",
}


def _reader(kind: str):
    return importlib.import_module(f"fsr_cli.data.{kind}")


def _matches(kind: str, root: Path) -> bool:
    module = _reader(kind)
    if kind == "smic":
        return module.find_hs(root) is not None or module.find_long(root) is not None
    return module.find_annotation(root) is not None


def detect_kind(root: Path) -> str:
    """The dataset kind of `root`, from the marker files and folders of each release.

    Raises:
        UsageError: root is not a folder, matches no kind, or matches several.
    """
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    found = [kind for kind in KINDS if _matches(kind, root)]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(f"{root}: looks like several datasets ({', '.join(found)}); pass --dataset KIND")
    looked = "; ".join(f"{marker} ({kind})" for kind, marker in MARKERS.items())
    raise UsageError(
        f"{root}: not a known dataset layout; looked for {looked}. Pass --dataset KIND if it is one"
    )


def read_dataset(root: Path, kind: str = "auto") -> SampleTable:
    """Read a dataset folder in its native layout into one sample table.

    Args:
        root: the dataset folder as released (see each reader's docstring for its layout).
        kind: one of KINDS, or 'auto' to detect it.

    Returns:
        The good samples, and a Problem for every row or clip folder that was skipped.

    Raises:
        UsageError: unknown kind, missing folder, or a folder auto-detection cannot place.
        DatasetError: the annotation file or frame folder of the kind is missing or unreadable.
    """
    root = Path(root)
    if kind != "auto" and kind not in KINDS:
        raise UsageError(f"unknown dataset kind {kind!r}; choose one of: auto, {', '.join(KINDS)}")
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    if kind == "auto":
        kind = detect_kind(root)
    return _reader(kind).read(root)
