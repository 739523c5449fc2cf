"""Spotting ground truth from the long-video releases' sheets, as fsr_cli.spot.megc rows.

    read_long_truth(path) -> list of {subject, video, onset, apex, offset, type, emotion, aus}

Frame numbers stay the releases' own: the numbers in the frame files' names of the long
recordings (CAS(ME)^2 rawpic/s15/15_0101disgustingteeth/img1.jpg, SAMM_longvideos/006_1/
006_1_00001.jpg, CAS(ME)^3 data/part_A/spNO.1/a/color/1.jpg). `fsr spot` on those frame folders
counts frames by the same numbers, so its intervals meet the truth as they are; `video` is the
recording's key, which the folder's name starts with (megc.video_key).

Layouts, from public loaders of each release (the files themselves are licensed and were not
available to check against; unchecked points are marked):

- CAS(ME)^2 `CAS(ME)^2code_final*.xlsx`: the coding sheet (`CASMEcode_final`, also seen as
  `CASFEcode_final`, else the first sheet) has no header row: participant, 'anger1_1' (video
  name and expression number), onset, apex, offset, AUs, estimated emotion, type
  ('macro-expression' / 'micro-expression'), self-reported emotion. `naming rule1` maps the
  participant to the folder prefix ('15' of s15); `naming rule2` maps 'anger1' to its code (401 ->
  '0401'). A missing offset (0) becomes the apex (unchecked: how many rows have one); 30 fps.
- SAMM long videos `SAMM_LongVideos_V*_Release.xlsx`: sheet `FACS_Movement_Only` with a preamble
  above the header Subject, Filename ('006_1_2': recording 006_1, its 2nd movement), Inducement
  Code, Onset, Apex, Offset, Duration, Type ('Micro - 1/2' or 'Macro'), Action Units; an apex of
  -1 means none coded (unchecked beyond public loaders); 200 fps.
- CAS(ME)^3 part A `cas(me)3_part_A_ME_label_JpgIndex*.xlsx`: header Subject ('spNO.1'),
  Filename ('a': the recording), Onset, Apex, Offset, AU, emotion; every row a micro-expression;
  the key is 'spNO.1_a' (its frames: spNO.1/a/color/); 30 fps. Macro-expressions live in another
  sheet of that release, not read here.
- SMIC-E: read already by the smic reader (its clips are cut; not long videos).
"""

from __future__ import annotations

import re
from pathlib import Path

from fsr_cli.errors import DatasetError, UsageError

FPS = {"casme2-long": 30.0, "samm-long": 200.0, "casme3-long": 30.0}  # the releases' frame rates
# The columns SAMM's and CAS(ME)^3's sheets share (header aliases, as fsr_cli.data.xlsx reads them).
INTERVAL_FIELDS = {
    "subject": ("Subject",),
    "file": ("Filename",),
    "onset": ("Onset",),
    "apex": ("Apex",),
    "offset": ("Offset",),
}


def kind_of(path: Path) -> str | None:
    name = Path(path).name.lower()
    if name.startswith("cas(me)^2code_final") and name.endswith(".xlsx"):
        return "casme2-long"
    if re.match(r"samm_longvideos_v.*_release.*\.xlsx$", name):
        return "samm-long"
    if name.startswith("cas(me)3_part_a_me_label_jpgindex") and name.endswith(".xlsx"):
        return "casme3-long"
    return None


def _int(value) -> int | None:
    try:
        v = int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None
    return v


def _row(subject, video, onset, apex, offset, kind, emotion, aus) -> dict | None:
    onset, apex, offset = _int(onset), _int(apex), _int(offset)
    if onset is None or onset < 0:
        return None
    if apex is not None and apex < onset:
        apex = None  # '-1' / 0: not coded
    if offset is None or offset < onset:
        offset = apex if apex is not None else onset
    return {
        "subject": str(subject).strip(),
        "video": str(video).strip(),
        "onset": onset,
        "apex": apex,
        "offset": offset,
        "type": kind,
        "emotion": str(emotion or "").strip(),
        "aus": str(aus or "").strip(),
    }


def _casme2(path: Path) -> list[dict]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        names = {n.lower(): n for n in book.sheetnames}
        code = next(
            (names[n] for n in ("casmecode_final", "casfecode_final") if n in names), book.sheetnames[0]
        )
        rows = [tuple(r) for r in book[code].iter_rows(values_only=True)]
        rule1 = (
            [tuple(r) for r in book[names["naming rule1"]].iter_rows(values_only=True)]
            if "naming rule1" in names
            else []
        )
        rule2 = (
            [tuple(r) for r in book[names["naming rule2"]].iter_rows(values_only=True)]
            if "naming rule2" in names
            else []
        )
    finally:
        book.close()
    if not rule1 or not rule2:
        raise DatasetError(
            f"{path}: no 'naming rule1' / 'naming rule2' sheet; expected the CAS(ME)^2 code sheet"
        )
    prefix = {
        _int(r[2]): str(_int(r[1]) if _int(r[1]) is not None else r[1]).strip()
        for r in rule1
        if len(r) > 2 and _int(r[2]) is not None
    }
    codes = {
        str(r[1]).strip().lower(): f"{_int(r[0]):04d}"
        for r in rule2
        if len(r) > 1 and _int(r[0]) is not None and r[1]
    }
    out = []
    for r in rows:
        if len(r) < 8 or _int(r[0]) is None or not r[1]:
            continue  # a header or blank row
        stimulus = str(r[1]).strip().split("_")[0].lower()
        if _int(r[0]) not in prefix or stimulus not in codes:
            continue
        kind = "micro" if "micro" in str(r[7]).lower() else "macro"
        row = _row(
            prefix[_int(r[0])], f"{prefix[_int(r[0])]}_{codes[stimulus]}", r[2], r[3], r[4], kind, r[6], r[5]
        )
        if row:
            out.append(row)
    return out


def _samm(path: Path) -> list[dict]:
    from fsr_cli.data.xlsx import read_sheet

    sheet = read_sheet(
        path, marker="Filename", expected="the SAMM long videos sheet", sheets=("FACS_Movement_Only",)
    )
    fields = {**INTERVAL_FIELDS, "type": ("Type",), "aus": ("Action Units", "AU")}
    out = []
    for _, r in sheet.records(fields, optional=("aus", "subject")):
        name = str(r["file"] or "").strip()
        video = re.sub(r"_\d+$", "", name)  # 006_1_2 -> 006_1
        kind = "micro" if "micro" in str(r["type"]).lower() else "macro"
        row = _row(
            r["subject"] or name.split("_")[0], video, r["onset"], r["apex"], r["offset"], kind, "", r["aus"]
        )
        if row:
            out.append(row)
    return out


def _casme3(path: Path) -> list[dict]:
    from fsr_cli.data.xlsx import read_sheet

    sheet = read_sheet(
        path, marker="Subject", expected="the CAS(ME)^3 part A ME label sheet", sheets=("label", "Sheet1")
    )
    fields = {**INTERVAL_FIELDS, "emotion": ("emotion", "Estimated Emotion"), "aus": ("AU", "Action Units")}
    out = []
    for _, r in sheet.records(fields, optional=("emotion", "aus")):
        subject = str(r["subject"] or "").strip()
        row = _row(
            subject,
            f"{subject}_{str(r['file']).strip()}",
            r["onset"],
            r["apex"],
            r["offset"],
            "micro",
            r["emotion"],
            r["aus"],
        )
        if row:
            out.append(row)
    return out


def read_long_truth(path: Path) -> list[dict]:
    """The spotting truth of a release's sheet (see the module docstring).

    Raises:
        UsageError: a file that is none of the known sheets, or that holds no interval.
    """
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        raise UsageError(
            f"{path}: not a known long-video annotation (CAS(ME)^2code_final*.xlsx, "
            "SAMM_LongVideos_V*_Release.xlsx, cas(me)3_part_A_ME_label_JpgIndex*.xlsx) nor a CSV"
        )
    try:
        rows = {"casme2-long": _casme2, "samm-long": _samm, "casme3-long": _casme3}[kind](path)
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read this {kind} sheet ({exc})") from None
    except DatasetError as exc:
        raise UsageError(str(exc)) from None
    if not rows:
        raise UsageError(f"{path}: no interval could be read from this {kind} sheet")
    return rows
