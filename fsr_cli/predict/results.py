"""The --csv results table of `fsr predict`: one row per clip (failed clips too), written only
where it replaces nothing but an earlier table of fsr's."""

from __future__ import annotations

from pathlib import Path

from fsr_cli.errors import FsrError, UsageError


def status(result: dict) -> str:
    """'ok', 'forced' (labelled though the quality gate refused the footage), 'no label' (refused
    by the gate) or 'failed' (the clip could not be read)."""
    if "error" in result:
        return "no label" if "quality" in result else "failed"
    return "forced" if result.get("forced") else "ok"


def csv_rows(results: list[dict], classes: tuple[str, ...]) -> list[list]:
    """The results table of --csv: a header row, then one row per clip (failed clips too)."""
    header = ["clip", "status", "label", *(f"p_{c}" for c in classes), "onset_frame", "onset_s"]
    header += ["apex_frame", "apex_s", "apex_source", "face_left", "face_top", "face_right", "face_bottom"]
    header += ["fps", "elapsed_s", "iod_px", "drift_px", "flow_peak_px", "error"]
    rows = [header]
    for r in results:
        if "error" in r:
            rows.append([r["clip"], status(r), *[""] * (len(header) - 4), r["error"]])
            continue
        probs = [f"{r['probabilities'][c]:.6f}" for c in classes]
        on, ap = r["onset"], r["apex"]
        q = r["quality"]
        rows.append(
            [r["clip"], status(r), r["label"], *probs, on["frame"], on["time_s"]]
            + [ap["frame"], ap["time_s"], ap["source"], *r["face"]["box"], r["fps"], r["elapsed_s"]]
            + [q["iod_px"], q["drift_px"], q["flow_peak_px"], ""]
        )
    return rows


def check_csv_target(path: Path, clips: list[Path], *, header: str | None = None) -> None:
    """Refuse a --csv that would replace an input clip, a folder, or a file that is not a results
    table fsr wrote (`--csv clips/*.mp4` gives --csv the first clip): checked before any work.
    header: how such a table begins (default: predict's; `fsr spot` passes its own).

    Raises:
        UsageError: naming the file and the fix.
    """
    path = Path(path)
    if any(path.resolve() == Path(c).resolve() for c in clips):
        raise UsageError(
            f"--csv {path} is one of the clips to predict; give a new file, e.g. --csv results.csv"
        )
    if path.is_dir():
        raise UsageError(f"--csv {path} is a folder; give a file, e.g. --csv {path / 'results.csv'}")
    if path.exists():
        try:
            with open(path, encoding="utf-8") as f:
                first = f.readline(4096)
        except (OSError, UnicodeDecodeError):
            first = ""
        if not first.startswith(header or CSV_HEADER):
            raise UsageError(
                f"--csv {path} exists and is not a results table fsr wrote; fsr replaces only its own, "
                "give a new file"
            )


CSV_HEADER = "clip,status,label,"  # how every results table fsr writes begins


def write_csv(path: Path, results: list[dict], classes: tuple[str, ...]) -> None:
    """Write the --csv results table (atomic: a unique temporary, then a rename; on a full disk
    the temporary is removed and the error names the file)."""
    import csv
    import io

    from fsr_cli.files import atomic_write

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(csv_rows(results, classes))
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FsrError(f"{path.parent}: could not be made ({exc.strerror or exc})") from None
    atomic_write(path, lambda tmp: tmp.write_text(buf.getvalue()))


def stream_warnings(name: str, quality: dict | None) -> list[str]:
    """What the decoding showed about a clip, worded for the terminal (fsr predict, fsr spot)."""
    q, out = quality or {}, []
    if q.get("truncated"):
        out.append(
            f"{name}: decoding stopped at frame {q['decoded_frames']} of the {q['stated_frames']} it states "
            "(a corrupt or cut tail); read as far as it decodes"
        )
    if q.get("interlaced"):
        out.append(f"{name}: interlaced; each frame read as one field, doubled back to its height")
    if q.get("variable_frame_rate"):
        out.append(f"{name}: a variable frame rate; times come from its timestamps")
    return out
