"""Time zones as people write them: "Москва", "МСК+4", "UTC+3", "Vladivostok", or empty.

Herald stores IANA names (`Europe/Moscow`); people write a city, an offset from Moscow or
from UTC. `resolve_timezone` is the one reading of such text, used by the CSV/XLSX import,
the REST API and the web forms, so a value means the same zone wherever it comes in. The
picker's search box finds a zone by the same names (`zone_search_words`).

How text is read, in this order (case, `ё`/`е`, spaces, dots and dashes do not matter):
- empty: the `default` given (the import, the API and the client form pass
  CLIENT_DEFAULT_TIMEZONE);
- an IANA name, in any case (`europe/moscow`);
- a city of Russia in Russian or English, with or without "г." (`CITY_ZONES`), or a city
  that names an IANA zone elsewhere (`Tokyo`, `New York`);
- `MSK`/`МСК`, alone or with an offset in hours (`МСК+4`, `MSK-1`): Moscow time plus that;
- an offset from UTC in whole hours: `UTC+3`, `GMT+3`, `+3`, `+03:00`, `UTC+0300`.

An offset maps to the Russian zone with that offset today (`RUSSIAN_ZONE_BY_OFFSET`:
MSK-1 is Kaliningrad, MSK is Moscow, MSK+2 is Yekaterinburg ... MSK+9 is Kamchatka);
Russia keeps no daylight saving time, so that zone keeps the offset all year. An offset
Russia does not have maps to UTC (0) or to IANA's fixed `Etc/GMT-N` zone (whose sign is
inverted by IANA's convention: UTC+1 is `Etc/GMT-1`). Offsets that are not whole hours
(`+05:30`) are refused: write the city instead.
"""

from __future__ import annotations

import functools
import re
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Russia's zones, west to east: the picker lists them first (Herald's clients are mostly there).
RUSSIAN_ZONES = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Kirov",
    "Europe/Volgograd",
    "Europe/Astrakhan",
    "Europe/Saratov",
    "Europe/Ulyanovsk",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Barnaul",
    "Asia/Tomsk",
    "Asia/Novokuznetsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Chita",
    "Asia/Yakutsk",
    "Asia/Khandyga",
    "Asia/Vladivostok",
    "Asia/Ust-Nera",
    "Asia/Magadan",
    "Asia/Sakhalin",
    "Asia/Srednekolymsk",
    "Asia/Kamchatka",
    "Asia/Anadyr",
)

# UTC offset in hours -> the zone an offset (UTC+N, MSK+N) means: the largest city's.
RUSSIAN_ZONE_BY_OFFSET = {
    2: "Europe/Kaliningrad",
    3: "Europe/Moscow",
    4: "Europe/Samara",
    5: "Asia/Yekaterinburg",
    6: "Asia/Omsk",
    7: "Asia/Novosibirsk",
    8: "Asia/Irkutsk",
    9: "Asia/Yakutsk",
    10: "Asia/Vladivostok",
    11: "Asia/Magadan",
    12: "Asia/Kamchatka",
}
MOSCOW_OFFSET = 3

# Cities (and a few regions) people name a zone by, in Russian and English.
CITY_ZONES = {
    "Europe/Kaliningrad": ("Калининград", "Kaliningrad"),
    "Europe/Moscow": (
        "Москва",
        "Moscow",
        "Московское время",
        "Санкт-Петербург",
        "Петербург",
        "СПб",
        "Питер",
        "Saint Petersburg",
        "St Petersburg",
        "Казань",
        "Kazan",
        "Нижний Новгород",
        "Nizhny Novgorod",
        "Ростов-на-Дону",
        "Rostov-on-Don",
        "Краснодар",
        "Krasnodar",
        "Воронеж",
        "Voronezh",
        "Сочи",
        "Sochi",
        "Ярославль",
        "Yaroslavl",
        "Мурманск",
        "Murmansk",
        "Архангельск",
        "Arkhangelsk",
    ),
    "Europe/Kirov": ("Киров", "Kirov"),
    "Europe/Volgograd": ("Волгоград", "Volgograd"),
    "Europe/Astrakhan": ("Астрахань", "Astrakhan"),
    "Europe/Saratov": ("Саратов", "Saratov"),
    "Europe/Ulyanovsk": ("Ульяновск", "Ulyanovsk"),
    "Europe/Samara": ("Самара", "Samara", "Ижевск", "Izhevsk", "Тольятти", "Tolyatti"),
    "Asia/Yekaterinburg": (
        "Екатеринбург",
        "Yekaterinburg",
        "Ekaterinburg",
        "Челябинск",
        "Chelyabinsk",
        "Уфа",
        "Ufa",
        "Пермь",
        "Perm",
        "Тюмень",
        "Tyumen",
        "Оренбург",
        "Orenburg",
    ),
    "Asia/Omsk": ("Омск", "Omsk"),
    "Asia/Novosibirsk": ("Новосибирск", "Novosibirsk"),
    "Asia/Barnaul": ("Барнаул", "Barnaul"),
    "Asia/Tomsk": ("Томск", "Tomsk"),
    "Asia/Novokuznetsk": ("Новокузнецк", "Novokuznetsk", "Кемерово", "Kemerovo"),
    "Asia/Krasnoyarsk": ("Красноярск", "Krasnoyarsk", "Норильск", "Norilsk"),
    "Asia/Irkutsk": ("Иркутск", "Irkutsk", "Улан-Удэ", "Ulan-Ude"),
    "Asia/Chita": ("Чита", "Chita"),
    "Asia/Yakutsk": ("Якутск", "Yakutsk", "Благовещенск", "Blagoveshchensk"),
    "Asia/Vladivostok": ("Владивосток", "Vladivostok", "Хабаровск", "Khabarovsk"),
    "Asia/Sakhalin": ("Южно-Сахалинск", "Yuzhno-Sakhalinsk", "Сахалин", "Sakhalin"),
    "Asia/Magadan": ("Магадан", "Magadan"),
    "Asia/Srednekolymsk": ("Среднеколымск", "Srednekolymsk"),
    "Asia/Kamchatka": (
        "Камчатка",
        "Kamchatka",
        "Петропавловск-Камчатский",
        "Petropavlovsk-Kamchatsky",
    ),
    "Asia/Anadyr": ("Анадырь", "Anadyr", "Чукотка", "Chukotka"),
}

# Geographic IANA regions: their last part is a city people may type ("Tokyo").
GEOGRAPHIC_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)

UNKNOWN_ZONE = _(
    "%(value)s is not a time zone Herald knows: write a city (Moscow, Novosibirsk), "
    "MSK+N, UTC+N or an IANA name such as America/New_York."
)
PARTIAL_HOUR = _(
    "%(value)s is not a whole number of hours from UTC: write the city or an IANA name "
    "such as Asia/Kolkata."
)

_NOT_LETTERS = re.compile(r"[\W_]+")
# "г. Москва", "город Москва": the word for a city before its name.
_CITY_WORD = re.compile(r"^(?:г|гор|город)\.?\s+")
# MSK+4, МСК -1, msk; the sign may be a typographic minus or a dash.
_MSK = re.compile(r"^(?:msk|мск)(?:\s*([+\-−–])\s*([0-9]{1,2}))?(?:\s*(?:ч|h))?$")
# UTC+3, GMT+03:00, +0300, UTC +3.
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+\-−–])\s*([0-9]{1,2})(?::?([0-9]{2}))?(?:\s*(?:ч|h))?$")
_UTC = frozenset({"utc", "gmt", "z", "utc+0", "gmt+0"})


def zone_key(text: str) -> str:
    """What matching compares: letters and digits only, casefolded, ё read as е."""
    text = _CITY_WORD.sub("", text.strip().casefold().replace("ё", "е"))
    return _NOT_LETTERS.sub("", text)


@functools.cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _names() -> dict[str, str]:
    """Every name a zone is written by (zone_key form) -> the IANA name."""
    names: dict[str, str] = {}
    cities: dict[str, set[str]] = {}
    for zone in known_timezones():
        region, _sep, city = zone.rpartition("/")
        if region.split("/", 1)[0] in GEOGRAPHIC_REGIONS:
            cities.setdefault(zone_key(city), set()).add(zone)
    # A city that two zones end with (none today, but IANA may add one) names neither.
    names.update({key: zones.pop() for key, zones in cities.items() if len(zones) == 1})
    names.update({zone_key(zone): zone for zone in known_timezones()})
    for zone, cities_of_zone in CITY_ZONES.items():
        names.update({zone_key(city): zone for city in cities_of_zone})
    return names


def _offset_zone(hours: int) -> str:
    if hours in RUSSIAN_ZONE_BY_OFFSET:
        return RUSSIAN_ZONE_BY_OFFSET[hours]
    if hours == 0:
        return "UTC"
    # IANA's Etc zones count the other way: Etc/GMT-5 is five hours ahead of UTC.
    return f"Etc/GMT{-hours:+d}"


def _signed(sign: str, hours: str) -> int:
    return -int(hours) if sign in "-−–" else int(hours)


@functools.lru_cache(maxsize=4096)
def _resolve(text: str) -> str:
    """The IANA zone `text` (stripped, not empty) names; ValidationError if none."""
    lowered = text.casefold().replace(" ", "")
    if lowered in _UTC:
        return "UTC"
    if match := _MSK.match(lowered):
        sign, hours = match.groups()
        offset = MOSCOW_OFFSET + (_signed(sign, hours) if sign else 0)
        if offset in RUSSIAN_ZONE_BY_OFFSET:
            return RUSSIAN_ZONE_BY_OFFSET[offset]
    elif match := _OFFSET.match(lowered):
        sign, hours, minutes = match.groups()
        if minutes and minutes != "00":
            raise ValidationError(PARTIAL_HOUR, code="invalid_timezone", params={"value": text})
        offset = _signed(sign, hours)
        if -12 <= offset <= 14:
            return _offset_zone(offset)
    elif zone := _names().get(zone_key(text)):
        return zone
    raise ValidationError(UNKNOWN_ZONE, code="invalid_timezone", params={"value": text})


def resolve_timezone(value: str | None, *, default: str | None = None) -> str:
    """The IANA name `value` means, as people write zones (see the module's docstring).

    Empty text gives `default`, or is refused when there is none. Raises ValidationError
    (code `invalid_timezone`) with a message that says what may be written.
    """
    text = (value or "").strip()
    if text in known_timezones():
        return text  # the common case, checked before anything else
    if not text:
        if default is None:
            raise ValidationError(
                _("Give a time zone: a city (Moscow), MSK+N, UTC+N or an IANA name."),
                code="required",
            )
        return default
    if len(text) > 64:
        raise ValidationError(UNKNOWN_ZONE, code="invalid_timezone", params={"value": text[:64]})
    return _resolve(text)


@functools.cache
def zone_search_words(zone: str) -> str:
    """Words the time-zone picker's search box matches for `zone`: its cities in Russian
    and English, its offset as MSK±N and UTC+N (lower case, one string)."""
    words = [city.casefold() for city in CITY_ZONES.get(zone, ())]
    for hours, name in RUSSIAN_ZONE_BY_OFFSET.items():
        if name == zone:
            moscow = hours - MOSCOW_OFFSET
            msk = f"{moscow:+d}" if moscow else ""
            words += [f"мск{msk}", f"msk{msk}", f"utc{hours:+d}", f"gmt{hours:+d}"]
    return " ".join(words)
