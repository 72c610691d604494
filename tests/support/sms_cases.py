"""Texts at the SMS part boundaries, shared by the Python test and the browser test of the
composer so that both check the very same cases: (name, text, encoding, characters, parts)."""

from __future__ import annotations

CYRILLIC = "я"
EURO = "€"  # in GSM-7's extension table: two septets

BOUNDARY_CASES = [
    ("gsm7-one-full-sms", "a" * 160, "GSM-7", 160, 1),
    ("gsm7-one-over", "a" * 161, "GSM-7", 161, 2),
    ("gsm7-two-full-parts", "a" * 306, "GSM-7", 306, 2),
    ("gsm7-two-parts-plus-one", "a" * 307, "GSM-7", 307, 3),
    ("extended-one-full-sms", EURO * 80, "GSM-7", 80, 1),
    ("extended-one-over", EURO * 80 + "a", "GSM-7", 81, 2),
    ("extended-brace-at-160", "{" + "a" * 158, "GSM-7", 159, 1),
    ("extended-brace-over-160", "{" + "a" * 159, "GSM-7", 160, 2),
    # An escape pair is never cut between parts: 306 septets, yet three parts.
    ("extended-pair-not-split", "a" * 152 + EURO + "a" * 152, "GSM-7", 305, 3),
    ("cyrillic-one-full-sms", CYRILLIC * 70, "UCS-2", 70, 1),
    ("cyrillic-one-over", CYRILLIC * 71, "UCS-2", 71, 2),
    ("cyrillic-two-full-parts", CYRILLIC * 134, "UCS-2", 134, 2),
    ("cyrillic-two-parts-plus-one", CYRILLIC * 135, "UCS-2", 135, 3),
    ("one-cyrillic-letter-makes-ucs2", "a" * 69 + CYRILLIC, "UCS-2", 70, 1),
]
