"""Reading an uploaded file as a table of text cells: CSV as any Excel writes it, or XLSX.

What is detected, so that a person never has to say it:
- the kind, by its first bytes: XLSX (a zip), the old binary `.xls` (refused with a
  message saying how to save it), else CSV;
- a CSV's encoding: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's
  "Unicode text"), else Windows-1251 (what "CSV" means to a Russian Excel) when the bytes
  are not UTF-8; a whole pass over the bytes decides, before any row is read;
- a CSV's separator: `sep=X` on the first line (Excel's own hint), else whichever of `;`,
  `,` and tab the header line has most of outside quotes (`,` when it has none);
- an XLSX's first sheet, read with openpyxl in read-only mode: rows stream from the zip.

Every step is linear in the file's size and bounded: CSV fields by the csv module's field
limit, columns by MAX_COLUMNS, an XLSX by what it unpacks to (`XLSX_UNPACK_FACTOR`). A NUL
character refuses the file (no text file has one, and PostgreSQL cannot store it).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.campaigns.imports.errors import file_error

# A header wider than this is refused: no client needs more, and the matching step shows one
# choice per column.
MAX_COLUMNS = 256
# An XLSX may unpack to this many times IMPORT_MAX_BYTES (XML is verbose; a zip bomb is not).
XLSX_UNPACK_FACTOR = 16
_CHUNK = 64 * 1024
_QUOTED = re.compile(r'"[^"]*"')
_SEPARATORS = (";", ",", "\t")
_SEPARATOR_NAMES = {";": "«;»", ",": "«,»", "\t": gettext_lazy("tab")}
_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "cp1251": "Windows-1251",
}


@dataclass
class Table:
    """A file read as rows of text: its header, then (line number, cells) for each row."""

    kind: str  # "csv" or "xlsx"
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    # Rows of a CSV must have the header's width; an XLSX row is as wide as its last value.
    strict_width: bool = True
    encoding: str = ""
    separator: str = ""
    _close: list = field(default_factory=list)

    def describe(self) -> str:
        """How the file was read, for the person who gave it ("CSV, Windows-1251, «;»")."""
        if self.kind == "xlsx":
            return _("Excel workbook (XLSX), first sheet")
        return _("CSV, %(encoding)s, separated by %(separator)s") % {
            "encoding": _ENCODING_NAMES.get(self.encoding, self.encoding),
            "separator": _SEPARATOR_NAMES.get(self.separator, self.separator),
        }

    def close(self) -> None:
        for close in self._close:
            close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_table(binary: IO[bytes]) -> Table:
    """The file as a Table; MalformedFile when it cannot be read. The caller closes it
    (a `with` block); `binary` itself stays open."""
    binary = _seekable(binary)
    start = binary.read(8)
    binary.seek(0)
    if start.startswith(b"PK\x03\x04"):
        return _open_xlsx(binary)
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        raise file_error(
            _(
                "This is an old Excel workbook (.xls). Save it as “Excel workbook (*.xlsx)” "
                "or as “CSV”, and import that file."
            )
        )
    return _open_csv(binary)


def _seekable(binary: IO[bytes]) -> IO[bytes]:
    if binary.seekable():
        return binary
    copy = tempfile.SpooledTemporaryFile(max_size=_CHUNK * 16)  # noqa: SIM115 (returned)
    shutil.copyfileobj(binary, copy, _CHUNK)
    copy.seek(0)
    return copy


# --- CSV --------------------------------------------------------------------------------


def detect_encoding(binary: IO[bytes]) -> str:
    """UTF-8 (with or without a byte-order mark), UTF-16 (with one), else Windows-1251.

    Reads the whole file once, a chunk at a time, and leaves it at its start. A file that
    is UTF-8 up to some byte is still Windows-1251 if that byte is not UTF-8: ASCII reads
    the same in both, and Windows-1251 Cyrillic is almost never valid UTF-8.
    """
    start = binary.read(4)
    binary.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := binary.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1251"
    finally:
        binary.seek(0)
    return "utf-8"


def _separator(line: str) -> str:
    """The separator a header line uses: the most frequent of ; , and tab outside quotes."""
    unquoted = _QUOTED.sub("", line)
    counts = [(unquoted.count(sep), sep) for sep in _SEPARATORS]
    count, sep = max(counts, key=lambda pair: pair[0])  # the first of equals: ";"
    return sep if count else ","


def _without_nul(lines: Iterator[str]) -> Iterator[str]:
    for number, line in enumerate(lines, start=1):
        if "\x00" in line:
            raise file_error(
                _(
                    "Line %(line)s has a NUL character (a zero byte): this is not a text "
                    "file, or it is damaged. Save it again as CSV or XLSX."
                )
                % {"line": number}
            )
        yield line


def _open_csv(binary: IO[bytes]) -> Table:
    encoding = detect_encoding(binary)
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    table = Table(kind="csv", header=[], rows=iter(()), encoding=encoding)
    table._close.append(text.detach)  # the caller's file stays open
    try:
        first = text.readline()
        skipped = 0
        # Excel's own hint, "sep=;" alone on the first line.
        hint = first.rstrip("\r\n")
        if len(hint) == 5 and hint[:4].lower() == "sep=":
            table.separator, first, skipped = hint[4], text.readline(), 1
        else:
            table.separator = _separator(first)
        lines = _without_nul(itertools.chain([first], text))
        reader = csv.reader(lines, delimiter=table.separator, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise file_error(_("The file is empty.")) from None
    except csv.Error as exc:
        table.close()
        raise file_error(_("Line %(line)s: %(error)s") % {"line": 1, "error": exc}) from None
    except UnicodeDecodeError:
        table.close()
        raise _not_text(encoding, 1) from None
    except BaseException:
        table.close()
        raise
    table.header = header
    table.rows = _csv_rows(reader, encoding, skipped)
    return table


def _not_text(encoding: str, line: int):
    return file_error(
        _(
            "Line %(line)s has bytes that are not %(encoding)s text. Save the file as "
            "“CSV UTF-8” or as an Excel workbook (XLSX)."
        )
        % {"line": line, "encoding": _ENCODING_NAMES.get(encoding, encoding)}
    )


def _csv_rows(reader, encoding: str, skipped: int) -> Iterator[tuple[int, list[str]]]:
    try:
        for values in reader:
            yield reader.line_num + skipped, values
    except csv.Error as exc:
        raise file_error(
            _("Line %(line)s: %(error)s") % {"line": reader.line_num + skipped, "error": exc}
        ) from None
    except UnicodeDecodeError:
        raise _not_text(encoding, reader.line_num + skipped + 1) from None


# --- XLSX -------------------------------------------------------------------------------


def _open_xlsx(binary: IO[bytes]) -> Table:
    from openpyxl import load_workbook

    limit = settings.IMPORT_MAX_BYTES * XLSX_UNPACK_FACTOR
    try:
        with zipfile.ZipFile(binary) as archive:
            # The sizes zipfile checks as it reads: a member never unpacks to more.
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_xlsx() from None
    if unpacked > limit:
        raise file_error(
            _(
                "This workbook unpacks to %(size)s MB, more than Herald reads (%(limit)s MB). "
                "Split it, or save it as CSV."
            )
            % {"size": unpacked // 2**20, "limit": limit // 2**20}
        )
    binary.seek(0)
    try:
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise _not_xlsx() from None
    table = Table(kind="xlsx", header=[], rows=iter(()), strict_width=False)
    table._close.append(workbook.close)
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise file_error(_("The workbook has no sheet."))
        sheet = sheets[0]
        # Dimensions written by some programs are wrong; read what the rows hold.
        sheet.reset_dimensions()
        header_at, header = _xlsx_header(sheet)
        while header and not header[-1].strip():
            header.pop()  # a row is read as wide as MAX_COLUMNS + 1: drop the empty end
        table.header = header
        table.rows = _xlsx_rows(sheet, header_at, len(header))
    except BaseException:
        table.close()
        raise
    return table


def _not_xlsx():
    return file_error(_("The file looks like an Excel workbook but cannot be read as one (XLSX)."))


def _xlsx_header(sheet) -> tuple[int, list[str]]:
    """The first row with a value, as text: the header, and its row number."""
    try:
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS + 1, values_only=True)
        for number, values in enumerate(rows, start=1):
            cells = [cell_text(value) for value in values]
            if any(cell.strip() for cell in cells):
                return number, cells
    except Exception:
        raise _not_xlsx() from None
    raise file_error(_("The file is empty."))


def _xlsx_rows(sheet, header_at: int, width: int) -> Iterator[tuple[int, list[str]]]:
    # One more column than the header: a value beyond it is the row's error.
    rows = sheet.iter_rows(min_row=header_at + 1, max_col=width + 1, values_only=True)
    try:
        for number, values in enumerate(rows, start=header_at + 1):
            yield number, [cell_text(value) for value in values]
    except zipfile.BadZipFile:
        raise _not_xlsx() from None


def cell_text(value) -> str:
    """An XLSX cell's value as the text a person typed in it.

    A number is written without a decimal part when it has none: a phone that Excel stored
    as the number 79161234567 (or 79161234567.0) reads as 79161234567.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
