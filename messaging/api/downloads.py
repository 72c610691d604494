"""CSV answers about the client import, shared by the REST API and the web UI."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse

from messaging.imports import SAMPLE_CSV, ImportResult


def rejected_rows_response(result: ImportResult, *, status: int = 200) -> FileResponse:
    """Every rejected row of an import as a CSV download, the figures in headers."""
    assert result.rejected_csv is not None
    response = FileResponse(
        _bytes_chunks(result.rejected_csv),
        status=status,
        content_type="text/csv; charset=utf-8",
        as_attachment=True,
        filename="rejected-rows.csv",
    )
    response["Herald-Import-Imported"] = "true" if result.imported else "false"
    response["Herald-Import-Created"] = str(result.created)
    response["Herald-Import-Updated"] = str(result.updated)
    response["Herald-Import-Rejected"] = str(result.rejected_count)
    return response


def _bytes_chunks(text_file, size: int = 64 * 1024):
    try:
        while chunk := text_file.read(size):
            yield chunk.encode("utf-8")
    finally:
        text_file.close()


def sample_csv_response() -> HttpResponse:
    response = HttpResponse(SAMPLE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="herald-clients-sample.csv"'
    return response
