"""Field validators shared by the models, the API and the forms."""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from messaging.phones import phone_error

# [0-9], never \d: Python's \d also matches "²" and "٩" (see messaging/phones.py).
OPERATOR_CODE_PATTERN = r"^[0-9]{3}\Z"
operator_code_validator = RegexValidator(
    OPERATOR_CODE_PATTERN,
    _("Operator code must be exactly 3 digits (0-9)."),
    code="invalid_operator_code",
)


@deconstructible
class PhoneValidator:
    """11 ASCII digits starting with 7; names the foreign digits when there are some."""

    code = "invalid_phone"

    def __call__(self, value) -> None:
        error = phone_error(str(value))
        if error:
            raise ValidationError(error, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, PhoneValidator)


phone_validator = PhoneValidator()


@functools.cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(
            _("%(value)s is not a known IANA time zone (for example Europe/Moscow)."),
            code="invalid_timezone",
            params={"value": value},
        )


def validate_operator_codes(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Operator codes must be a list."), code="invalid")
    for code in value:
        if not isinstance(code, str):
            raise ValidationError(_("Each operator code must be a string of 3 digits."))
        operator_code_validator(code)


def tag_key(tag: str) -> str:
    """The form of a tag that matching compares: `VIP`, ` vip ` and `Vip` are one tag.

    Computed in Python (str.casefold), never by the database: SQLite's lower() knows
    only ASCII, and PostgreSQL's depends on the database's locale; Cyrillic tags must
    match the same way everywhere.
    """
    return (tag or "").strip().casefold()


def validate_tags(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Tags must be a list."), code="invalid")
    for tag in value:
        if not isinstance(tag, str) or len(tag) > 100:
            raise ValidationError(_("Each tag must be a string of at most 100 characters."))
        if "\x00" in tag:
            raise ValidationError(_("Null characters are not allowed."), code="null_characters")
