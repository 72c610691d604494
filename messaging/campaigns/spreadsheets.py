"""Files a spreadsheet opens: the CSV Herald reads, the CSV Russian Excel reads, and XLSX.

Every table Herald hands out (the client export, the rejected rows of an import) is
written here, in one of three forms:

- `csv`: UTF-8, comma-separated: the import's own format, for scripts and other tools;
- `excel`: UTF-8 with a byte-order mark and `;` between values: what Excel in a Russian
  locale opens as columns (without the mark it reads the bytes as Windows-1251; with commas
  it shows one column);
- `xlsx`: an Excel workbook (openpyxl, write-only, so rows are not held in memory).

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is neutralised in
every form (CSV injection): the CSV forms put an apostrophe before it, which the import
takes off again (`from_spreadsheet_safe`); XLSX stores it as a text cell marked "quote
prefix", which Excel shows as typed and never runs, even after the cell is edited.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

FORMATS = ("csv", "excel", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "excel": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"csv": "csv", "excel": "csv", "xlsx": "xlsx"}
# The most rows an XLSX sheet holds (Excel's limit), the header included.
XLSX_MAX_ROWS = 1_048_576


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def from_spreadsheet_safe(value: str) -> str:
    """Undo `spreadsheet_safe`, so an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[str]], *, form: str = "csv") -> Iterator[bytes]:
    """Rows (the header first) as encoded CSV lines, each cell made spreadsheet-safe.

    `form` is `csv` (UTF-8, commas) or `excel` (UTF-8 with a byte-order mark, semicolons).
    Lines end with CRLF, as Excel writes them.
    """
    writer = csv.writer(_Echo(), delimiter=";" if form == "excel" else ",")
    if form == "excel":
        yield codecs.BOM_UTF8
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row]).encode("utf-8")


def xlsx_file(rows: Iterable[Iterable[str]], *, title: str = "Herald") -> IO[bytes]:
    """Rows (the header first) as an XLSX workbook in a temporary file, at its start.

    Every cell is a text cell: phones stay digits (Excel would show a number as 7.9E+10)
    and formula-like text stays text.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append([_text_cell(sheet, value, WriteOnlyCell) for value in row])
    # In memory up to 8 MiB, then on disk.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (returned)
    workbook.save(out)
    out.seek(0)
    return out


def _text_cell(sheet, value: str, make_cell):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # XML cannot hold most control characters: shown as a replacement character instead.
    cell = make_cell(sheet, ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    # openpyxl reads "=..." as a formula and digits stay text only as type "s".
    cell.data_type = "s"
    if value.startswith(_FORMULA_STARTS):
        cell.quotePrefix = True
    return cell
