"""Request bodies the API reads: bounded in size and, for JSON, in nesting, before parsing.

DRF hands JSON to the json module, which recurses once per level: 100,000 `[` were a
RecursionError, a 500. Herald's bodies nest three levels at most, so a body nesting
deeper than MAX_JSON_DEPTH is a 400, found by a linear scan of the bytes. Size: Django
refuses a JSON or form body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default) before
reading it, which messaging/api/errors.py answers as a 413 (BodyTooLarge); a multipart
body, whose files Django would stream to disk at any size, is refused here the same way.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.parsers import JSONParser, MultiPartParser

MAX_JSON_DEPTH = 32

_OPENING = frozenset(b"[{")
# Every byte but the four brackets: deleted before the depth is counted.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "request_too_large"

    @classmethod
    def over_the_limit(cls) -> BodyTooLarge:
        return cls(
            _(
                "The request body is larger than %(bytes)s bytes "
                "(DATA_UPLOAD_MAX_MEMORY_SIZE); send less at a time."
            )
            % {"bytes": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}"}
        )


def json_depth(body: bytes, *, stop_above: int) -> int:
    """How deep the brackets of a JSON text nest, counting no further than `stop_above`+1.

    Linear, in C but for the last step: escaped backslashes and quotes are dropped, the
    remaining quotes split strings from the rest, and only the brackets outside strings
    are walked (none for most bodies; a 100,000-level body stops after `stop_above`).
    """
    plain = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(plain.split(b'"')[::2])
    brackets = outside.translate(None, delete=_NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()  # DRF gives the body read and bounded by Django already
        if json_depth(body, stop_above=MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise exceptions.ParseError(
                _("JSON parse error - the body nests deeper than %(depth)s levels.")
                % {"depth": MAX_JSON_DEPTH}
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)


class BoundedMultiPartParser(MultiPartParser):
    """Multipart bodies of the API's ordinary writes (the client import has its own limit,
    IMPORT_MAX_BYTES): refused by their declared length before a byte is read."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request else 0
        except ValueError:
            declared = 0
        if limit is not None and declared > limit:
            raise BodyTooLarge.over_the_limit()
        return super().parse(stream, media_type, parser_context)
