"""Which column of an import file fills which client field.

A header names a field in English or Russian, as people write it (`Телефон`, `Номер
телефона`, `Mobile`, `Часовой пояс`, `ФИО`...: `ALIASES`; case, `ё`, spaces, dots and
underscores do not matter), or a custom field as `field:city` (`поле:город`), which is how
Herald's own exports name them. A column whose header is none of these needs a person's
choice: the web UI's matching step, or the API's `mapping`. Either gives each column a
target: a field (`phone`, `operator_code`, `tag`, `timezone`, `name`, `consent`,
`consent_source`: imports/consent.py reads a consent cell), a custom field
(`field:<name>`) or nothing (the column is not imported).

Every check here is one pass over the header (a dict, never `list.count`), and a header
wider than MAX_COLUMNS is refused before anything else looks at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from messaging.campaigns.imports.errors import ColumnsNotMatched, MalformedFile, file_error
from messaging.campaigns.imports.reading import MAX_COLUMNS
from messaging.campaigns.phones import normalise_phone, phone_error
from messaging.campaigns.timezones import known_timezones
from messaging.campaigns.validators import ATTRIBUTES_MAX_KEYS, validate_attribute_key

FIELDS = ("phone", "operator_code", "tag", "timezone", "name", "consent", "consent_source")
IGNORE = ""
FIELD_PREFIX = "field:"
# Written by the rejected-rows file beside the file's own columns; not imported.
REPORT_COLUMNS = ("line", "errors")

ALIASES = {
    "phone": (
        "phone",
        "phone number",
        "phones",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "tel",
        "telephone",
        "msisdn",
        "number",
        "телефон",
        "телефоны",
        "номер",
        "номер телефона",
        "мобильный",
        "мобильный телефон",
        "моб телефон",
        "сотовый",
        "сотовый телефон",
        "тел",
    ),
    "operator_code": (
        "operator_code",
        "operator",
        "operator code",
        "code",
        "код оператора",
        "оператор",
        "код",
    ),
    "tag": ("tag", "tags", "label", "group", "segment", "тег", "метка", "группа", "сегмент"),
    "timezone": (
        "timezone",
        "time zone",
        "tz",
        "zone",
        "часовой пояс",
        "пояс",
        "таймзона",
        "часовая зона",
        "временная зона",
    ),
    "name": (
        "name",
        "full name",
        "first name",
        "client",
        "client name",
        "customer",
        "имя",
        "фио",
        "ф и о",
        "имя клиента",
        "клиент",
        "имя фамилия",
        "фамилия имя",
    ),
    "consent": (
        "consent",
        "consent_at",
        "consented",
        "consent given",
        "marketing consent",
        "opt in",
        "optin",
        "согласие",
        "согласие на рассылку",
        "согласие на рекламу",
        "согласие на рекламную рассылку",
        "согласие на рассылки",
        "согласие на смс",
        "дата согласия",
        "согласен на рассылку",
    ),
    "consent_source": (
        "consent_source",
        "consent source",
        "source of consent",
        "источник согласия",
        "где дано согласие",
        "где получено согласие",
    ),
}

_NOT_LETTERS = re.compile(r"[\W_]+")
# field:city, Field: city, поле:город
_FIELD_HEADER = re.compile(r"^(?:field|поле)\s*:\s*(.*)$", re.IGNORECASE)
_LISTED = 10


def header_key(name: str) -> str:
    """What header matching compares: words of letters and digits, casefolded, ё as е."""
    return _NOT_LETTERS.sub(" ", name.casefold().replace("ё", "е")).strip()


_KNOWN = {header_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}
_KNOWN.update({column: IGNORE for column in REPORT_COLUMNS})


def field_target(key: str) -> str:
    return FIELD_PREFIX + key


def recognise(name: str) -> str | None:
    """The target a header names, IGNORE for an empty one or a report column, None if
    Herald does not know it."""
    text = name.strip()
    if not text:
        return IGNORE
    if match := _FIELD_HEADER.match(text):
        key = match.group(1).strip()
        try:
            validate_attribute_key(key)
        except ValidationError:
            return None
        return field_target(key)
    return _KNOWN.get(header_key(text))


def parse_target(text) -> str:
    """A target as a person or a client program writes it: a field (or any header name Herald
    knows for it), `field:<name>`, or empty / `ignore` for a column not imported."""
    if text is None:
        return IGNORE
    if not isinstance(text, str):
        raise ValidationError(_("Each column's target must be text."), code="invalid")
    if text.strip().casefold() in ("", "ignore", "skip", "-"):
        return IGNORE
    if match := _FIELD_HEADER.match(text.strip()):
        key = match.group(1).strip()
        validate_attribute_key(key)
        return field_target(key)
    target = _KNOWN.get(header_key(text))
    if not target:
        raise ValidationError(
            _(
                "%(target)s is not a client field: use phone, operator_code, tag, timezone, "
                "name, consent, consent_source, field:<name> for a custom field, or ignore."
            ),
            code="invalid",
            params={"target": text[:50]},
        )
    return target


@dataclass
class Columns:
    """Each column's target, and the columns of the fields and custom fields to read."""

    names: list[str]
    targets: list[str]
    # Whether a person chose each column's target (rather than its header naming it).
    chosen: list[bool]

    @property
    def fields(self) -> list[tuple[int, str]]:
        return [(i, t) for i, t in enumerate(self.targets) if t and t in FIELDS]

    @property
    def attributes(self) -> list[tuple[int, str]]:
        return [
            (i, t.removeprefix(FIELD_PREFIX))
            for i, t in enumerate(self.targets)
            if t.startswith(FIELD_PREFIX)
        ]

    @property
    def present(self) -> set[str]:
        return {t for t in self.targets if t in FIELDS}

    def report_header(self) -> list[tuple[int, str]]:
        """The imported columns with the header a re-import recognises: the file's own
        name where Herald recognised it, else the target's."""
        return [
            (i, target if self.chosen[i] else self.names[i])
            for i, target in enumerate(self.targets)
            if target
        ]


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"«{name}»" for name in names[:_LISTED])
    if len(names) > _LISTED:
        shown += " " + _("and %(count)s more") % {"count": len(names) - _LISTED}
    return shown


def _looks_like_data(cells: list[str]) -> bool:
    zones = known_timezones()
    return any(phone_error(normalise_phone(c)) is None or c.strip() in zones for c in cells)


def plan_columns(header: list[str], chosen: dict[int, str] | None = None) -> Columns:
    """Each column's target: `chosen[position]` where a person chose one, else what its
    header names. Raises MalformedFile for a header Herald cannot use at all, and
    ColumnsNotMatched (with every problem) for columns that a person must match."""
    names = [cell.strip() for cell in header]
    while names and not names[-1]:
        names.pop()  # Excel writes empty cells up to the widest row
    if len(names) > MAX_COLUMNS:
        raise file_error(
            _(
                "The file has %(count)s columns; Herald reads at most %(max)s. Delete the "
                "columns you do not import."
            )
            % {"count": len(names), "max": MAX_COLUMNS}
        )
    chosen = chosen or {}
    if not chosen and _looks_like_data(names):
        raise file_error(
            _(
                "The first line looks like a client, not a header. Add a line naming the "
                "columns at the top of the file, such as %(header)s (the sample shows the "
                "format)."
            )
            % {"header": "phone,operator_code,tag,timezone"}
        )
    targets: list[str] = []
    unknown: list[str] = []
    for position, name in enumerate(names):
        target = chosen[position] if position in chosen else recognise(name)
        if target is None:
            unknown.append(name)
            target = IGNORE
        targets.append(target)
    columns = Columns(names=names, targets=targets, chosen=[p in chosen for p in range(len(names))])
    problems = []
    if unknown:
        problems.append(
            _("Herald does not know the column(s) %(columns)s.") % {"columns": _listed(unknown)}
        )
    problems += _conflicts(columns)
    if "phone" not in columns.present and not unknown:
        problems.append(_("No column holds the phone."))
    if "consent_source" in columns.present and "consent" not in columns.present:
        problems.append(_("A column holds where consent was given, but none holds the consent."))
    if problems:
        raise ColumnsNotMatched({"file": [" ".join(problems)]})
    return columns


def _conflicts(columns: Columns) -> list[str]:
    holders: dict[str, list[str]] = {}
    for name, target in zip(columns.names, columns.targets, strict=True):
        if target:
            holders.setdefault(target, []).append(name or "—")
    problems = [
        _("Columns %(columns)s all hold %(target)s; keep one.")
        % {"columns": _listed(names), "target": target}
        for target, names in holders.items()
        if len(names) > 1
    ]
    if len(columns.attributes) > ATTRIBUTES_MAX_KEYS:
        problems.append(
            _("A client has at most %(max)s custom fields; the file has %(count)s.")
            % {"max": ATTRIBUTES_MAX_KEYS, "count": len(columns.attributes)}
        )
    return problems


def positions_of(header: list[str], mapping: dict) -> dict[int, str]:
    """An API `mapping` ({"Header as written": "target"}) as targets by column position.

    Raises ValidationError (for the `mapping` field) naming a header that is not in the
    file or a target that is not a field.
    """
    if not isinstance(mapping, dict):
        raise ValidationError(
            _('Give mapping as an object: {"column header": "phone", ...}.'), code="invalid"
        )
    if len(mapping) > MAX_COLUMNS:
        raise ValidationError(
            _("The mapping names %(count)s columns; a file has at most %(max)s.")
            % {"count": len(mapping), "max": MAX_COLUMNS},
            code="invalid",
        )
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(header):
        positions.setdefault(name.strip(), []).append(position)
    chosen: dict[int, str] = {}
    errors = []
    for name, target_text in mapping.items():
        where = positions.get(str(name).strip())
        if not where:
            errors.append(
                _("The file has no column %(column)s.") % {"column": f"«{str(name)[:50]}»"}
            )
            continue
        try:
            target = parse_target(target_text)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        chosen.update(dict.fromkeys(where, target))
    if errors:
        raise ValidationError(errors)
    return chosen


__all__ = [
    "FIELDS",
    "IGNORE",
    "REPORT_COLUMNS",
    "Columns",
    "ColumnsNotMatched",
    "MalformedFile",
    "field_target",
    "header_key",
    "parse_target",
    "plan_columns",
    "positions_of",
    "recognise",
]
