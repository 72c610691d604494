"""What refuses an import file as a whole (as opposed to one of its rows)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class MalformedFile(ValidationError):
    """The file as a whole cannot be read as a table of clients."""


class ColumnsNotMatched(MalformedFile):
    """The file reads, but its columns need matching to client fields by a person (the web
    UI's matching step) or an explicit `mapping` (the API)."""


def file_error(message: str) -> MalformedFile:
    return MalformedFile({"file": [message]})
