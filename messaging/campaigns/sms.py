"""How a text travels as SMS: its encoding and how many parts it takes.

The one place this rule lives. The campaign text's validator (API, forms, admin)
calls `measure()`; the composer's live counter (static/js/sms.js) reads the
character tables and part sizes below from the page (`composer_config()`), so
the browser counts with exactly the same data. The splitting walk is the same
in both: a part is filled until the next character no longer fits, so a GSM-7
escape pair or a UTF-16 surrogate pair is never cut in two (phones would show
garbage), which is what operators do.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The GSM 03.38 default alphabet (one septet each) and its extension table (an escape
# septet plus one: two each). Form feed is in the extension table too.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
_BASIC = frozenset(GSM7_BASIC)
_EXTENDED = frozenset(GSM7_EXTENDED)

# Units (septets for GSM-7, UTF-16 code units for UCS-2) in one SMS, and in each part
# of a longer one (the rest of the 140 bytes carries the concatenation header).
PART_SIZES = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class SmsMeasure:
    characters: int  # as a person counts them (code points)
    encoding: str  # GSM7 or UCS2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    per_part: int  # capacity of each part at this length
    remaining: int  # units still free in the last part


def encoding_of(text: str) -> str:
    """GSM-7 when every character is in its tables; any other (e.g. Cyrillic) means UCS-2."""
    return GSM7 if all(ch in _BASIC or ch in _EXTENDED for ch in text) else UCS2


def non_gsm_characters(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of appearance (e.g. “smart quotes”)."""
    # A dict keeps the order and answers "seen?" at once: linear in the text.
    seen = dict.fromkeys(ch for ch in text if ch not in _BASIC and ch not in _EXTENDED)
    return list(seen)


def is_cyrillic(ch: str) -> bool:
    """A letter of the Cyrillic block (Russian, Ukrainian, ...): a Russian text is all these."""
    return "\u0400" <= ch <= "\u04ff"


def ucs2_reasons(text: str) -> tuple[bool, list[str]]:
    """Why a text is UCS-2, as a person would say it: whether it has Cyrillic letters (named
    as "Cyrillic", not one by one), and the other characters outside GSM-7 (“quotes”, emoji)."""
    outside = non_gsm_characters(text)
    return any(is_cyrillic(ch) for ch in outside), [ch for ch in outside if not is_cyrillic(ch)]


def _cost(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in _EXTENDED else 1
    return 2 if ord(ch) > 0xFFFF else 1  # outside the BMP: a surrogate pair


def measure(text: str) -> SmsMeasure:
    encoding = encoding_of(text)
    single, multi = PART_SIZES[encoding]
    costs = [_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units <= single:
        parts = 1 if text else 0
        return SmsMeasure(len(text), encoding, units, parts, single, single - units)
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts += 1
            used = 0
        used += cost
    return SmsMeasure(len(text), encoding, units, parts, multi, multi - used)


def max_parts() -> int:
    return settings.SMS_MAX_PARTS


def validate_sms_length(text: str) -> None:
    """The campaign text must fit in SMS_MAX_PARTS parts."""
    info = measure(text or "")
    limit = max_parts()
    if info.parts > limit:
        single, multi = PART_SIZES[info.encoding]
        raise ValidationError(
            ngettext(
                "The text needs %(parts)d SMS parts; at most %(limit)d part is allowed "
                "(%(encoding)s: %(single)d characters in one SMS, %(multi)d per part).",
                "The text needs %(parts)d SMS parts; at most %(limit)d parts are allowed "
                "(%(encoding)s: %(single)d characters in one SMS, %(multi)d per part).",
                limit,
            ),
            code="too_many_parts",
            params={
                "parts": info.parts,
                "limit": limit,
                "encoding": info.encoding,
                "single": single,
                "multi": multi,
            },
        )


def composer_config() -> dict:
    """The tables and limits the browser's counter needs (rendered as data attributes)."""
    return {
        "basic": GSM7_BASIC,
        "extended": GSM7_EXTENDED,
        "gsm_single": PART_SIZES[GSM7][0],
        "gsm_multi": PART_SIZES[GSM7][1],
        "ucs_single": PART_SIZES[UCS2][0],
        "ucs_multi": PART_SIZES[UCS2][1],
        "max_parts": max_parts(),
    }
