"""The rules for a client's and a campaign's fields, each in one wording.

The models, the API serializers, the web forms and the CSV import all check with these,
so a value is refused (or accepted) the same way, in the same words, wherever it comes in.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from messaging.campaigns.phones import phone_error
from messaging.campaigns.timezones import known_timezones

# [0-9], never \d: Python's \d also matches "²" and "٩" (see messaging/campaigns/phones.py).
OPERATOR_CODE_PATTERN = r"^[0-9]{3}\Z"


@deconstructible
class OperatorCodeValidator:
    """Exactly 3 ASCII digits. Not a RegexValidator: its lazily compiled pattern cost a
    third of the CSV import's row checks (checked once per row, 100,000s per file)."""

    code = "invalid_operator_code"
    message = _("Operator code must be exactly 3 digits (0-9).")
    _pattern = re.compile(OPERATOR_CODE_PATTERN)

    def __call__(self, value) -> None:
        if not self._pattern.match(str(value)):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, OperatorCodeValidator)


operator_code_validator = OperatorCodeValidator()


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


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(
            _("%(value)s is not a known IANA time zone (for example Europe/Moscow)."),
            code="invalid_timezone",
            params={"value": value},
        )


# A campaign's filter holds at most this many operator codes, and as many tags: there are
# only 1,000 codes, and a longer list is a mistake (or an attack: 200,000 tags cost every
# page that shows the campaign). Checked before any item is, so a huge list is one error.
FILTER_MAX_ITEMS = 1000


def check_item_count(items, *, max_items: int = FILTER_MAX_ITEMS) -> None:
    if len(items) > max_items:
        raise ValidationError(
            _("At most %(max)s values, please; this list has %(count)s."),
            code="max_items",
            params={
                "max": number_format(max_items, force_grouping=True),
                "count": number_format(len(items), force_grouping=True),
            },
        )


def split_list(text: str) -> list[str]:
    """Values typed as "916, 925; 926": split on commas and semicolons, stripped, empty ones
    dropped, repeats dropped keeping the first. Linear in the text (a dict, not a list
    search: 50,000 tags took 16 s that way)."""
    items = (item.strip() for item in text.replace(";", ",").split(","))
    return list(dict.fromkeys(item for item in items if item))


def validate_operator_codes(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Operator codes must be a list."), code="invalid")
    check_item_count(value)
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


TAG_MAX_LENGTH = 100
# Code "max_length", as Django's and DRF's own length check: a field with max_length shows
# this wording by naming it in error_messages (forms, serializers).
TAG_TOO_LONG = _("Tag must be at most 100 characters.")
# Django's wording, the one the forms and the API already show for text fields.
prohibit_null_characters = ProhibitNullCharactersValidator()


def validate_tag(value: str) -> None:
    """A client's tag, or one of a campaign's: at most TAG_MAX_LENGTH characters."""
    if len(value) > TAG_MAX_LENGTH:
        raise ValidationError(TAG_TOO_LONG, code="max_length")


def validate_tag_text(value: str) -> None:
    """A tag typed as text outside a CharField (a CSV cell, a JSON list's item): the length
    rule, and no null character, which a CharField form or serializer field checks itself."""
    validate_tag(value)
    prohibit_null_characters(value)


def validate_tags(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Tags must be a list."), code="invalid")
    check_item_count(value)
    for tag in value:
        if not isinstance(tag, str):
            raise ValidationError(_("Each tag must be a string of at most 100 characters."))
        validate_tag_text(tag)


# --- Personal fields: a client's name and custom fields ---------------------------------

NAME_MAX_LENGTH = 150
# Custom fields (`Client.attributes`): a flat map of short strings, each key usable as a
# merge tag in a campaign's text ({city}). Bounded so one client stays a small row.
ATTRIBUTES_MAX_KEYS = 20
ATTRIBUTE_KEY_MAX_LENGTH = 40
ATTRIBUTE_VALUE_MAX_LENGTH = 200
# A letter (Latin or Cyrillic), then letters, ASCII digits or "_": what a merge tag names.
ATTRIBUTE_KEY_PATTERN = r"^[A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё0-9_]*\Z"
ATTRIBUTE_KEY_RE = re.compile(ATTRIBUTE_KEY_PATTERN)
# The client's own fields: a custom field of the same name would hide them in a text.
RESERVED_ATTRIBUTE_KEYS = frozenset({"name", "phone", "operator_code", "tag", "timezone"})


def validate_attribute_key(key) -> None:
    """A custom field's name: a merge-tag identifier, not one of the client's own fields."""
    if not isinstance(key, str) or not ATTRIBUTE_KEY_RE.match(key):
        raise ValidationError(
            _(
                "%(key)s is not a field name: start with a letter and use letters, digits "
                "0-9 and _ only (for example city or birthday)."
            ),
            code="invalid_attribute_key",
            params={"key": str(key)[:ATTRIBUTE_KEY_MAX_LENGTH]},
        )
    if len(key) > ATTRIBUTE_KEY_MAX_LENGTH:
        raise ValidationError(
            _("Field name %(key)s… is longer than %(max)s characters."),
            code="invalid_attribute_key",
            params={"key": key[:ATTRIBUTE_KEY_MAX_LENGTH], "max": ATTRIBUTE_KEY_MAX_LENGTH},
        )
    if key in RESERVED_ATTRIBUTE_KEYS:
        raise ValidationError(
            _("%(key)s is a client's own field, not a custom one."),
            code="reserved_attribute_key",
            params={"key": key},
        )


def validate_attribute_value(key: str, value) -> None:
    if not isinstance(value, str):
        raise ValidationError(
            _("Field %(key)s must be text."), code="invalid_attribute", params={"key": key}
        )
    if len(value) > ATTRIBUTE_VALUE_MAX_LENGTH:
        raise ValidationError(
            _("Field %(key)s must be at most %(max)s characters."),
            code="invalid_attribute",
            params={"key": key, "max": ATTRIBUTE_VALUE_MAX_LENGTH},
        )
    prohibit_null_characters(value)


def validate_attributes(value) -> None:
    """A client's custom fields: a JSON object of at most ATTRIBUTES_MAX_KEYS text values."""
    if not isinstance(value, dict):
        raise ValidationError(
            _("Custom fields must be an object of names and texts."), code="invalid"
        )
    if len(value) > ATTRIBUTES_MAX_KEYS:
        raise ValidationError(
            _("A client has at most %(max)s custom fields (these are %(count)s)."),
            code="too_many_attributes",
            params={"max": ATTRIBUTES_MAX_KEYS, "count": len(value)},
        )
    errors = []
    for key, item in value.items():
        try:
            validate_attribute_key(key)
            validate_attribute_value(key, item)
        except ValidationError as exc:
            errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def clean_attributes(value: dict) -> dict:
    """Custom fields as stored: values stripped, empty ones dropped (no value is no field).

    Anything but a dict comes back as it is, for validate_attributes to refuse."""
    if not isinstance(value, dict):
        return value
    cleaned = {key: item.strip() if isinstance(item, str) else item for key, item in value.items()}
    return {key: item for key, item in cleaned.items() if item != ""}
