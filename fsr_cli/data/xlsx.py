"""Reading the datasets' annotation spreadsheets: find the header row, look columns up tolerantly.

The releases differ in small ways that break exact matching: 'OnsetFrame' vs 'Onset Frame',
'Estimated Emotion' vs 'estimated emotion', blank header cells (None in openpyxl, 'Unnamed: 2'
when a sheet went through pandas), preambles above the header (SAMM). Headers are therefore
compared after `normalise_header` (lowercase, no spaces, underscores or dashes).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsr_cli.errors import DatasetError

# How far down a sheet the header row is looked for (SAMM's preamble is 13 rows).
HEADER_SEARCH_ROWS = 60

_UNNAMED = re.compile(r"^unnamed:?\d*$")


def normalise_header(cell: Any) -> str:
    """'Onset Frame' -> 'onsetframe'; blank or pandas 'Unnamed: 2' -> ''."""
    if cell is None:
        return ""
    key = re.sub(r"[\s_\-]+", "", str(cell)).lower()
    return "" if _UNNAMED.match(key) else key


@dataclass(frozen=True)
class Sheet:
    """The rows below the header of one worksheet, with their Excel row numbers (1-based)."""

    path: Path
    name: str  # worksheet title
    header_row: int
    columns: dict[str, int]  # normalised header -> 0-based column index
    rows: list[tuple[int, tuple[Any, ...]]]

    def column(self, *aliases: str) -> int | None:
        """Index of the first alias present in the header, or None."""
        for alias in aliases:
            index = self.columns.get(normalise_header(alias))
            if index is not None:
                return index
        return None

    def records(self, fields: dict[str, tuple[str, ...]], *, optional: tuple[str, ...] = ()) -> Iterator:
        """Yield (row number, {field: cell}) for every non-blank row.

        Args:
            fields: field name -> header aliases, the first alias being the name shown in errors.
            optional: fields that may be absent from the header (their cells read as None).

        Raises:
            DatasetError: a required field has no column.
        """
        where = {}
        for field, aliases in fields.items():
            index = self.column(*aliases)
            if index is None and field not in optional:
                found = ", ".join(repr(k) for k in self.columns) or "nothing"
                raise DatasetError(
                    f"{self.path}: no {aliases[0]!r} column in the header (row {self.header_row} of "
                    f"sheet {self.name!r}; found {found})"
                )
            where[field] = index
        for number, values in self.rows:
            yield (
                number,
                {f: (values[i] if i is not None and i < len(values) else None) for f, i in where.items()},
            )


def read_sheet(path: Path, *, marker: str, expected: str, sheets: tuple[str, ...] = ()) -> Sheet:
    """Read the first matching worksheet of `path` from its header row down.

    Args:
        path: the .xlsx file.
        marker: a header cell that identifies the header row ('Subject').
        expected: what the file should be, for the error message ('the CASME II coding sheet').
        sheets: preferred worksheet titles (case-insensitive), tried first; then every sheet in
            the book's order, so a data sheet after a cover or notes sheet is found by its header.

    Raises:
        DatasetError: the file is missing or unreadable, no sheet has a row holding `marker`,
            or the header has no data rows below it.
    """
    import openpyxl

    if not path.is_file():
        raise DatasetError(f"{path}: no such file (expected {expected})")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable .xlsx file ({exc}); expected {expected}") from exc
    try:
        for ws in _candidate_sheets(book, sheets):
            # Some writers record a wrong used range (dimension 'A1'); read-only mode would trust it.
            ws.reset_dimensions()
            all_rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
            header = _find_header(all_rows, marker)
            if header is not None:
                break
        else:
            names = ", ".join(repr(n) for n in book.sheetnames)
            raise DatasetError(
                f"{path}: no header row with a {marker!r} cell in any sheet ({names}); expected {expected}"
            )
    finally:
        book.close()
    columns: dict[str, int] = {}
    for i, cell in enumerate(all_rows[header]):
        key = normalise_header(cell)
        if key:
            columns.setdefault(key, i)
    body = [
        (header + 2 + k, values)  # Excel rows are 1-based and start after the header
        for k, values in enumerate(all_rows[header + 1 :])
        if any(v is not None and str(v).strip() for v in values)
    ]
    if not body:
        raise DatasetError(
            f"{path}: sheet {ws.title!r} has a header (row {header + 1}) but no data rows; "
            f"expected {expected}"
        )
    return Sheet(path=path, name=ws.title, header_row=header + 1, columns=columns, rows=body)


def _candidate_sheets(book, sheets: tuple[str, ...]):
    """The preferred titles (case-insensitive) first, then the others in the book's order."""
    titles = {name.strip().lower(): name for name in book.sheetnames}
    first = [titles[w.lower()] for w in sheets if w.lower() in titles]
    for name in dict.fromkeys([*first, *book.sheetnames]):
        yield book[name]


def _find_header(rows: list[tuple[Any, ...]], marker: str) -> int | None:
    key = normalise_header(marker)
    for i, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(normalise_header(v) == key for v in values):
            return i
    return None


def find_file(root: Path, *patterns: str) -> Path | None:
    """First file directly in `root` whose name matches one of the glob patterns, case-insensitively.

    Patterns are tried in order, so put the exact release name first and looser globs after it;
    within one pattern the last name in sorted order wins (the newest dated release).
    """
    import fnmatch

    if not root.is_dir():
        return None
    names = sorted(p.name for p in root.iterdir() if p.is_file() and not p.name.startswith("~$"))
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatch(n.lower(), pattern.lower())]
        if hits:
            return root / hits[-1]
    return None
