"""A consent column as people fill it in: «да», «нет», a tick, or the date it was given.

Promotional campaigns reach only clients with a recorded consent (38-FZ art. 18), and a
marketer's list usually says who gave it in a column of their own. A cell gives consent
(yes words, a tick, a 1, or the date the consent was given), says nothing (empty, «нет»,
0: the client's consent is left as it is; an import never withdraws one, as it never
clears an opt-out), or is refused with what to write instead.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What a cell says, casefolded (x and х: Latin and Cyrillic, as people type a cross).
YES = frozenset(
    {"да", "д", "yes", "y", "true", "истина", "1", "+", "x", "х", "v", "✓", "✔", "☑"}
    | {"согласен", "согласна", "есть", "дано", "given", "opt-in", "opt in"}
)
NO = frozenset(("нет", "н", "no", "n", "false", "ложь", "0", "-", "—", "–"))

# 31.12.2025, 31/12/2025, 31.12.25; then an optional time 14:30 or 14:30:15.
_DAY_FIRST = re.compile(
    r"^(\d{1,2})[./](\d{1,2})[./](\d{2}|\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)


def _as_date(text: str, zone: ZoneInfo) -> datetime | None:
    """A date (and time) as Excel or a person writes it, or None if the text is none."""
    if match := _DAY_FIRST.match(text):
        day, month, year, hour, minute, second = match.groups()
        year_number = int(year) + (2000 if len(year) == 2 else 0)
        try:
            value = datetime(
                year_number,
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
            )
        except ValueError:
            return None
    else:
        try:
            value = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def parse_consent(text: str, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When consent was given according to a cell: `now` for a yes, the date written for
    a date (read in the client's `zone` when it has no offset), None for no or empty.

    Raises ValidationError for anything else, and for a date in the future.
    """
    cell = text.strip()
    word = cell.casefold().rstrip(".!")
    if word in NO or not word:
        return None
    if word in YES:
        return now
    given = _as_date(cell, zone)
    if given is None:
        raise ValidationError(
            _(
                "Consent «%(value)s» is not understood: write «да» or «нет» (yes or no), or "
                "the date it was given, such as 31.12.2025."
            )
            % {"value": cell[:40]},
            code="invalid",
        )
    if given > now:
        raise ValidationError(
            _("Consent is dated %(date)s, in the future.") % {"date": given.date().isoformat()},
            code="future",
        )
    if given < datetime.combine(date(1990, 1, 1), time(), UTC):
        raise ValidationError(
            _("Consent is dated %(date)s: check the year.") % {"date": given.date().isoformat()},
            code="invalid",
        )
    return given
