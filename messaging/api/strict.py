"""The API says exactly what it wants: the wrong body type, auth scheme, field or time is named.

A client that sends JSON without `Content-Type: application/json`, a `Bearer` token, a
misspelt field or a time without an offset gets a 4xx that says what to send instead,
never a silent guess (issue 15 items 5, 10, 11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import FormParser

TOKEN_SCHEME = "Token"  # noqa: S105 (the name of the scheme, not a secret)


class FormParserRefusingJson(FormParser):
    """Form bodies as usual; a JSON body sent as a form (curl -d without a header) is a 415.

    Parsed as a form it would be one field named after the whole JSON text, and the
    answer would be a baffling "phone: This field is required."
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if len(data) == 1:
            (key,) = data.keys()
            if key.lstrip()[:1] in ("{", "["):
                raise exceptions.UnsupportedMediaType(
                    media_type,
                    detail=_(
                        "The body looks like JSON but was sent as %(type)s: add the header "
                        "Content-Type: application/json."
                    )
                    % {"type": media_type or _("a form")},
                )
        return data


class WrongSchemeAuthentication(BaseAuthentication):
    """Names the `Token` scheme when a request sends another one (`Bearer`, `Basic`...).

    First in the list, so it also makes a request without credentials a 401 with
    `WWW-Authenticate: Token`. It authenticates nobody: the classes after it do.
    """

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header:
            return None
        scheme = header[0].decode("latin-1", errors="replace")
        if scheme.lower() == TOKEN_SCHEME.lower():
            return None
        session_user = getattr(request._request, "user", None)
        if session_user is not None and session_user.is_authenticated:
            # A signed-in browser behind a proxy's Basic auth sends that header too:
            # the session authenticates it (SessionAuthentication, with its CSRF check).
            return None
        raise exceptions.AuthenticationFailed(
            _(
                "The API takes the header Authorization: %(scheme)s <key>, not %(sent)s. "
                "Create a key on your account page."
            )
            % {"scheme": TOKEN_SCHEME, "sent": scheme[:20]}
        )

    def authenticate_header(self, request) -> str:
        return TOKEN_SCHEME


class WrongSchemeAuthenticationScheme(OpenApiAuthenticationExtension):
    """Not a way to sign in, so nothing for the OpenAPI document's security section."""

    target_class = WrongSchemeAuthentication
    name: list[str] = []

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []


# What the mixin is mixed into, for the type checker.
if TYPE_CHECKING:
    _Serializer = serializers.Serializer
else:
    _Serializer = object


class RejectUnknownFieldsMixin(_Serializer):
    """A 400 naming every field the serializer does not know, instead of ignoring it.

    Read-only fields (`id`, `status`, `counts`...) are known: a GET body sent back with a
    PUT passes, and they are ignored as documented.
    """

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            # A browser form (the browsable API) posts its CSRF token with the fields.
            known = {*self.fields, "csrfmiddlewaretoken"}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                writable = ", ".join(sorted(n for n, f in self.fields.items() if not f.read_only))
                raise serializers.ValidationError(
                    {
                        key: [
                            _("Unknown field. Fields you can send: %(fields)s.")
                            % {"fields": writable}
                        ]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


def refuse_body(request) -> None:
    """For actions that take no input: any field sent is unknown, and said so; a body that
    is not an object at all (a list, a string: `"x"` cancelled a campaign) is refused too.
    An empty body, `{}` and `null` are no input."""
    data = request.data
    if hasattr(data, "keys"):
        if data.keys():
            raise serializers.ValidationError(
                {str(key): [_("Unknown field: this action takes no input.")] for key in data}
            )
    elif data is not None:
        raise serializers.ValidationError(
            {"non_field_errors": [_("This action takes no input: send no body, or {}.")]}
        )


OFFSET_EXAMPLE = "2026-12-01T10:00:00+03:00"


@extend_schema_field(
    {
        "type": "string",
        "format": "date-time",
        "example": OFFSET_EXAMPLE,
        "description": "ISO 8601 with an offset or Z; a time without one is refused.",
    }
)
class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must carry its offset: a bare time is refused, not guessed.

    A Moscow user's "10:00" taken as UTC would be three hours off without a word.
    """

    def to_internal_value(self, value):
        if isinstance(value, str):
            text = value.strip()
            try:
                parsed = parse_datetime(text)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("date_only" if len(text) <= 10 else "no_offset", example=OFFSET_EXAMPLE)
        return super().to_internal_value(value)

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "no_offset": gettext_lazy(
            "Give the time with its offset (or Z for UTC), e.g. {example}: "
            "a time without one is ambiguous."
        ),
        "date_only": gettext_lazy("Give a date and time with its offset, e.g. {example}."),
    }
