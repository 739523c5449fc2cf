"""`fsr import-flow`: precomputed flow images (e.g. the 28x28 composite releases) -> a prepared dataset.

LABELS.csv columns (header names case-insensitive): dataset, subject, sample, label, flow and an
optional appearance. `flow` is a path, relative to the CSV, to a 3-channel image whose channels
hold u, v and optical strain, each min-max scaled to 0-255; CHANNELS names what the file's R, G
and B channels hold (default 'uvs'). `appearance` is an aligned face image.

Each good row becomes one `flow` cache entry in OUT (the cache root) and a record in
OUT/prepared.json with scaled=true and apex_source 'imported':
    flow   float32 (3, S, S)  u, v, strain in [0, 1] (the file's 0-255 divided by 255)
    onset  uint8   (S, S)     zeros (an import has no onset frame)
    apex   uint8   (S, S)     the appearance image in grey, or zeros without one
S is --size, or the first readable flow image's size; other sizes are resized to it.
The entry key covers the import version, channels, size and both files' content hashes, so a
second import of the same CSV computes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fsr_cli.cache import Cache, file_hash
from fsr_cli.data.labels import KNOWN_EMOTIONS, composite_label, normalise_emotion
from fsr_cli.errors import SampleError, UsageError
from fsr_cli.prepared import FLOW_STAGE, MANIFEST, PreparedSample, check_replaceable, write_manifest

IMPORT_VERSION = 2  # 2: the face kept at its own resolution, not the flow's
FACE_MAX = 256  # a face image larger than this is stored at FACE_MAX a side
REQUIRED = ("dataset", "subject", "sample", "label", "flow")
SIZES = (8, 1024)  # the bounds of S, given (--size) or taken from the first flow image
# An image with more pixels is refused before it is decoded: a flow or face image of a release
# is a few hundred pixels a side, and a 20000 x 20000 PNG would take gigabytes to decode and resize.
MAX_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class ImportConfig:
    channels: str = "uvs"  # what the file's R, G, B channels hold
    size: int | None = None  # None: the first readable flow image's size
    face_size: int | None = None  # None: the appearance image's own side (at most FACE_MAX)
    force: bool = False  # replace a prepared.json in OUT that is not an import of this CSV


@dataclass
class ImportReport:
    csv: Path
    out: Path
    manifest: Path | None
    rows: int
    records: list[PreparedSample] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (CSV row number, reason)
    cached: int = 0
    size: int | None = None

    def summary(self) -> dict:
        return {
            "csv": str(self.csv),
            "out": str(self.out),
            "manifest": str(self.manifest) if self.manifest else None,
            "rows": self.rows,
            "ok": len(self.records),
            "computed": len(self.records) - self.cached,
            "cached": self.cached,
            "size": self.size,
            "failed": [{"row": r, "reason": why} for r, why in self.problems],
        }


def check_channels(channels: str) -> list[int]:
    """File channel (in RGB order) holding u, v and strain: 'vus' -> [1, 0, 2].

    Raises:
        UsageError: not an arrangement of the letters u, v, s.
    """
    if sorted(channels) != ["s", "u", "v"]:
        raise UsageError(f"--channels must arrange the letters u, v, s (e.g. uvs, vus), got {channels!r}")
    return [channels.index(c) for c in "uvs"]


def read_rows(csv_path: Path) -> list[tuple[int, dict]]:
    """(row number, {column: value}) of every data row; the header is row 1.

    Raises:
        UsageError: missing file or a required column absent.
    """
    if not csv_path.is_file():
        raise UsageError(f"{csv_path}: no such file (give the LABELS.csv of the flows to import)")
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = [h.strip().lower() for h in next(reader, [])]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise UsageError(
                    f"{csv_path}: missing column(s) {', '.join(missing)}; need {', '.join(REQUIRED)} "
                    f"(and optionally appearance), found {', '.join(header) or 'no header'}"
                )
            rows = [
                (n, dict(zip(header, (v.strip() for v in row), strict=False)))
                for n, row in enumerate(reader, 2)
                if any(v.strip() for v in row)
            ]
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{csv_path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); "
            "save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
        ) from exc
    if not rows:
        raise UsageError(f"{csv_path}: a header but no data rows; nothing to import")
    return rows


def _image(path: Path, flags: int) -> np.ndarray:
    import cv2
    from PIL import Image

    if not path.is_file():
        raise SampleError(f"missing file {path}")
    try:
        with Image.open(path) as im:  # reads the header only
            w, h = im.size
    except Image.DecompressionBombError as exc:  # PIL's own limit, far above MAX_PIXELS
        raise SampleError(
            f"{path} has more than {MAX_PIXELS} pixels (4096x4096; {exc}); not a flow or face image"
        ) from None
    except (OSError, ValueError):
        w = h = 0  # not an image PIL knows: OpenCV decides below
    if w * h > MAX_PIXELS:
        raise SampleError(
            f"{path} is {w}x{h} pixels, more than {MAX_PIXELS} (4096x4096); not a flow or face image"
        )
    img = cv2.imread(str(path), flags)
    if img is None:
        raise SampleError(f"unreadable image {path}")
    return img


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    if img.shape[:2] == (size, size):
        return img
    shrink = size < max(img.shape[:2])
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def load_flow_image(path: Path, *, order: list[int], size: int | None) -> np.ndarray:
    """A 3-channel flow image as (3, S, S) float32 [u, v, strain] in [0, 1]."""
    import cv2

    img = _image(path, cv2.IMREAD_UNCHANGED)
    if img.ndim != 3 or img.shape[2] < 3:
        raise SampleError(
            f"{path} has {1 if img.ndim == 2 else img.shape[2]} channel(s), need 3 (u, v, strain)"
        )
    if img.dtype != np.uint8:
        raise SampleError(f"{path} is {img.dtype}, need an 8-bit image (0-255 scaled u, v, strain)")
    rgb = img[..., 2::-1]  # OpenCV reads BGR(A)
    if size is not None:
        rgb = _resize(rgb, size)
    return (rgb[..., order].transpose(2, 0, 1) / np.float32(255)).astype(np.float32)  # (3, S, S)


def _label(raw: str, dataset: str) -> tuple[str, str | None]:
    emotion = normalise_emotion(raw)
    if emotion not in KNOWN_EMOTIONS:
        raise SampleError(
            f"unknown label {raw!r}; expected a class (negative, positive, surprise) or an emotion word "
            f"({', '.join(sorted(KNOWN_EMOTIONS - {'negative', 'positive', 'surprise'}))})"
        )
    return emotion, composite_label(emotion, dataset)


def _import_row(row: dict, *, base: Path, cache: Cache, order: list[int], config: ImportConfig, size):
    """(record, hit, size) of one CSV row. Raises SampleError for a bad row."""
    import cv2

    for c in REQUIRED:
        if not row.get(c):
            raise SampleError(f"empty {c}")
    emotion, label3 = _label(row["label"], row["dataset"].lower())
    flow_path = base / row["flow"]
    app_path = base / row["appearance"] if row.get("appearance") else None
    motion = load_flow_image(flow_path, order=order, size=size)
    if size is None:
        _check_inferred_size(motion, flow_path)
    size = motion.shape[1]
    if app_path:
        grey = _image(app_path, cv2.IMREAD_GRAYSCALE)
        face = _resize(grey, config.face_size or min(FACE_MAX, max(grey.shape)))
    else:
        face = np.zeros((size, size), np.uint8)
    params = {
        "import": IMPORT_VERSION,
        "channels": config.channels,
        "size": size,
        "face_size": config.face_size,
    }
    inputs = [file_hash(flow_path), file_hash(app_path) if app_path else ""]
    sample = f"{row['dataset']}/{row['subject']}/{row['sample']}"
    arrays = {"flow": motion, "onset": np.zeros((size, size), np.uint8), "apex": face}
    entry, hit = cache.cached(
        FLOW_STAGE, IMPORT_VERSION, params, inputs, lambda: (arrays, {"sample": sample})
    )
    record = PreparedSample(
        dataset=row["dataset"].lower(),
        subject=row["subject"],
        clip=row["sample"],
        emotion=emotion,
        label3=label3,
        onset=0,
        apex=0,
        offset=0,
        apex_source="imported",
        entry=entry.path.relative_to(cache.root).as_posix(),
    )
    return record, hit, size


def _check_inferred_size(motion: np.ndarray, path: Path) -> None:
    """The first flow image sets S: it must be square and within SIZES, as --size must be."""
    h, w = motion.shape[1:]
    if h != w:
        raise SampleError(f"{path} is {w}x{h}; give --size to square it")
    if not SIZES[0] <= h <= SIZES[1]:
        raise UsageError(
            f"{path} is {w}x{h}, the size every flow would be imported at; sizes must lie between "
            f"{SIZES[0]} and {SIZES[1]} pixels: give --size (e.g. --size 28)"
        )


def _check_out_apart(out: Path, csv_path: Path, rows: list[tuple[int, dict]]) -> None:
    """Refuse an --out that holds the CSV or the files it names: the cache's entries and
    `fsr cache clear` must never mix with a user's own files."""
    root = out.resolve()
    base = csv_path.parent
    inputs = [csv_path] + [base / r[c] for _, r in rows for c in ("flow", "appearance") if r.get(c)]
    inside = next((p for p in inputs if root in p.resolve().parents), None)
    if inside is not None:
        raise UsageError(
            f"--out {out} holds the import's own input {inside}; give a folder of its own for the "
            f"prepared dataset, e.g. --out {out / '.fsr'}"
        )


def import_csv(
    csv_path: Path, out: Path, *, config: ImportConfig = ImportConfig(), on_row=None
) -> ImportReport:
    """Import every good row of LABELS.csv into the prepared dataset OUT (see the module doc).

    Raises:
        UsageError: missing CSV, missing columns, bad --channels or --size.
    """
    order = check_channels(config.channels)
    if config.size is not None and not SIZES[0] <= config.size <= SIZES[1]:
        raise UsageError(f"--size must be between {SIZES[0]} and {SIZES[1]} pixels, got {config.size}")
    rows = read_rows(csv_path)
    _check_out_apart(out, csv_path, rows)
    cache = Cache(out)
    with cache.writing():  # a second import into OUT waits, then finds this one's prepared.json
        if not config.force:
            check_replaceable(out / MANIFEST, csv_path, fix="give another --out, or --force to replace it")
        report = _import_rows(rows, csv_path, cache=cache, order=order, config=config, on_row=on_row)
        if report.records:
            datasets = sorted({r.dataset for r in report.records})
            params = {
                "import": {"csv": str(csv_path.resolve()), "channels": config.channels, "size": report.size}
            }
            report.manifest = write_manifest(
                cache,
                dataset=datasets[0] if len(datasets) == 1 else "imported",
                source=csv_path.resolve(),
                params=params,
                samples=report.records,
                scaled=True,
            )
    return report


def _import_rows(rows, csv_path: Path, *, cache: Cache, order, config: ImportConfig, on_row) -> ImportReport:
    report = ImportReport(csv=csv_path, out=cache.root, manifest=None, rows=len(rows), size=config.size)
    seen: dict[str, int] = {}
    for n, row in rows:
        try:
            uid = f"{row.get('dataset', '').lower()}/{row.get('subject')}/{row.get('sample')}"
            if uid in seen:
                raise SampleError(f"duplicate sample {uid} (first on row {seen[uid]})")
            record, hit, report.size = _import_row(
                row, base=csv_path.parent, cache=cache, order=order, config=config, size=report.size
            )
            seen[uid] = n
            report.records.append(record)
            report.cached += hit
        except SampleError as exc:
            report.problems.append((n, str(exc)))
        if on_row:
            on_row()
    return report
