"""Files about clients handed out by the REST API and the web UI: the sample to import,
an import's rejected rows, the client export, each as CSV, CSV for Excel or XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

from messaging.campaigns.exports import stored_rows
from messaging.campaigns.imports import SAMPLE_CSV, ImportResult
from messaging.campaigns.spreadsheets import CONTENT_TYPES, EXTENSIONS, csv_lines, xlsx_file

# How each form is asked for: ?rejected_format= in the API, the links in the web UI.
FORMS = ("csv", "excel", "xlsx")


def table_response(
    rows: Iterable[list[str]], *, form: str, filename: str, status: int = 200
) -> StreamingHttpResponse:
    """Rows (the header first) as a download in `form`: csv, excel or xlsx."""
    if form == "xlsx":
        workbook = xlsx_file(rows)
        body = iter(lambda: workbook.read(64 * 1024), b"")
    else:
        body = csv_lines(rows, form=form)
    response = StreamingHttpResponse(body, status=status, content_type=CONTENT_TYPES[form])
    response["Content-Disposition"] = content_disposition_header(
        True, f"{filename}.{EXTENSIONS[form]}"
    )
    return response


def rejected_rows_response(
    result: ImportResult, *, status: int = 200, form: str = "csv"
) -> StreamingHttpResponse:
    """Every rejected row of an import as a download, the figures in headers."""
    assert result.rejected_csv is not None
    response = table_response(
        stored_rows(result.rejected_csv), form=form, filename="rejected-rows", status=status
    )
    response["Herald-Import-Imported"] = "true" if result.imported else "false"
    response["Herald-Import-Created"] = str(result.created)
    response["Herald-Import-Updated"] = str(result.updated)
    response["Herald-Import-Repeated"] = str(result.repeated)
    response["Herald-Import-Rejected"] = str(result.rejected_count)
    return response


def kept_rows_response(content: str, *, form: str, filename: str) -> StreamingHttpResponse:
    """Rows kept as plain CSV text (the web UI's rejected rows) in `form`."""
    return table_response(stored_rows(io.StringIO(content)), form=form, filename=filename)


def sample_csv_response() -> HttpResponse:
    response = HttpResponse(SAMPLE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="herald-clients-sample.csv"'
    return response
