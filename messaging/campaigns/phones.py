"""Phone numbers: the one rule for what Herald stores and the one way typed numbers are read.

Herald stores a phone as 11 ASCII digits starting with 7 (`79161234567`): the provider
takes it as an int64, so any other digit would either crash the sender (`int("²")`) or
turn two stored numbers into one (`int("٧٩١٦...")` is 7916...). Python's `\\d` and
`str.isdigit()` accept those other digits, so every check here spells out `[0-9]`.

People type numbers as `+7 (916) 123-45-67`, `8 916 123 45 67` or `79161234567`:
`normalise_phone` turns those into the stored form. The web forms, the CSV import and
the REST API all call it, so a number means the same wherever it comes in.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

# What is stored: 11 ASCII digits starting with 7. \Z, not $: "$" also matches before a
# trailing newline.
PHONE_PATTERN = r"^7[0-9]{10}\Z"
PHONE_RE = re.compile(PHONE_PATTERN)
PHONE_MESSAGE = _("Phone must be 11 digits starting with 7 (7XXXXXXXXXX).")
# Formatted when used, so in the language of that request.
ASCII_DIGITS_MESSAGE = _("Use the digits 0-9 only (this number has other digits: {digits}).")
ASCII_DIGITS = frozenset("0123456789")

# Separators people put between groups of digits; nothing else is dropped.
_SEPARATORS = re.compile(r"[\s().\-\u2010-\u2015]+")
_ASCII_RUN = re.compile(r"[0-9]+")


def is_valid_phone(value: str) -> bool:
    return bool(PHONE_RE.match(value))


def normalise_phone(raw: str) -> str:
    """The stored form of a typed Russian mobile number, or `raw` stripped when it is not one.

    Accepted: `79161234567`, `+79161234567`, `89161234567` (the domestic 8 prefix),
    `9161234567` (without the country code), with spaces, brackets, dots or dashes
    anywhere: `+7 (916) 123-45-67`, `8 916 123 45 67`. Anything else comes back as typed
    (stripped), so the validator reports it; digits other than ASCII 0-9 are never
    converted.
    """
    text = raw.strip()
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("7"):
            return text  # another country's code: not ours to guess
    if not _ASCII_RUN.fullmatch(digits):
        return text
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    return digits if is_valid_phone(digits) else text


def non_ascii_digits(value: str) -> str:
    """The characters of `value` that are digits to Unicode but not ASCII 0-9 ("²", "٩")."""
    return "".join(ch for ch in value if ch.isdigit() and ch not in ASCII_DIGITS)


def phone_error(value: str) -> str | None:
    """Why `value` (already normalised) cannot be stored, or None when it can."""
    if is_valid_phone(value):
        return None
    other = non_ascii_digits(value)
    if other:
        return ASCII_DIGITS_MESSAGE.format(digits=other)
    return str(PHONE_MESSAGE)  # in the language active now, as the other message


def ascii_digits(value: str) -> str | None:
    """`value` with every Unicode decimal digit replaced by its ASCII digit.

    None when it holds a character that is a digit without a decimal value (the
    superscript "²"): there is no safe reading of it. Used only by the data migration that
    repairs rows stored before the rule, never on new input.
    """
    out = []
    for ch in value:
        if ch in ASCII_DIGITS or not ch.isdigit():
            out.append(ch)
            continue
        decimal = unicodedata.decimal(ch, None)
        if decimal is None:
            return None
        out.append(str(decimal))
    return "".join(out)


def search_prefix(value: str) -> str | None:
    """The phone prefix a search box means ("+7 (916" -> "7916"), or None for other text."""
    digits = _SEPARATORS.sub("", value.strip()).removeprefix("+")
    if not _ASCII_RUN.fullmatch(digits):
        return None
    if len(digits) > 1 and digits[0] == "8":
        # Stored phones all start with 7; "8 916..." is the same number typed domestically.
        digits = "7" + digits[1:]
    return digits


def display_phone(value: str) -> str:
    """A stored phone as people read it: `79161234567` -> `+7 (916) 123-45-67`.

    Anything that is not a stored phone comes back as it is.
    """
    if not is_valid_phone(value or ""):
        return value
    return f"+7 ({value[1:4]}) {value[4:7]}-{value[7:9]}-{value[9:11]}"


def search_digits(value: str) -> str | None:
    """The digits a search box holds once separators are dropped ("916 12-3" -> "916123"),
    or None when it holds anything else (a tag search)."""
    digits = _SEPARATORS.sub("", value.strip()).removeprefix("+")
    return digits if _ASCII_RUN.fullmatch(digits) else None
