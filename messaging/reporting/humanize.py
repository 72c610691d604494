"""Numbers, moments and time zones written the reader's way, in either language.

One place for what every page, message and email writes: `number` groups digits as the
language does (50 000 with a no-break space in Russian, 50,000 in English), `moment`
writes a date and time for a sentence in the viewer's zone and the language's date
format (never ISO in Russian), and `zone_name` names a time zone by its city
("Москва", "Moscow") instead of its IANA name (Europe/Moscow). The templates use them
as filters (|number, |moment, |zone: dashboard/templatetags/herald.py).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import get_language

from messaging.campaigns.timezones import CITY_ZONES


def number(value) -> str:
    """An integer (or decimal) with the language's digit grouping: 46 968 / 46,968."""
    if value is None or value == "":
        return ""
    try:
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    except (TypeError, ValueError):
        return str(value)


def moment(value: datetime | None, *, seconds: bool = False) -> str:
    """A date and time for a sentence, in the active zone and the language's format."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(
        value, "DATETIME_FORMAT" if seconds else "SHORT_DATETIME_FORMAT", use_l10n=True
    )


def zone_name(zone: str | None) -> str:
    """A time zone by its city in the active language (Europe/Moscow -> Москва / Moscow);
    a zone without a listed city by the last part of its name (America/New_York ->
    New York); UTC and fixed offsets as they are."""
    if not zone:
        return ""
    zone = str(zone)
    cities = CITY_ZONES.get(zone)
    if cities:
        russian = (get_language() or "en").split("-")[0] == "ru"
        return cities[0] if russian else cities[1]
    if "/" in zone and not zone.startswith("Etc/"):
        return zone.rsplit("/", 1)[1].replace("_", " ")
    return zone
