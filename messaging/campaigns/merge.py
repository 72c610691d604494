"""Merge tags: a campaign text made personal, `Здравствуйте, {name|клиент}!`.

A tag is `{field}` or `{field|fallback}`; `field` is `name` or the name of a custom field
(Client.attributes). A client without the field (or with it empty) gets the fallback, or
nothing when there is none. Braces that do not form a tag (`{ }`, `{1}`) stay as typed.

Which fields are known: `name` and every custom field some client was given
(`ClientField`, written wherever attributes are written). A text naming any other field
is refused, naming it: a typo would otherwise go out to every client as an empty gap.

SMS parts of a personal text are counted on its longest rendering among the recipients
(`longest_rendering`): the review's parts, total and cost, and the SMS_MAX_PARTS check,
all use that one number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import F, Func, IntegerField, Q, QuerySet, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Length, NullIf, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext as _

from messaging.campaigns import sms

# A field name as validators.ATTRIBUTE_KEY_PATTERN allows it; a fallback is short text
# without braces. Linear: no nested quantifiers.
TAG = re.compile(r"\{([A-Za-zА-Яа-яЁё][A-Za-zА-Яа-яЁё0-9_]{0,39})(?:\|([^{}\n]{0,100}))?\}")
NAME = "name"
# Renderings ranked longest first, then measured: SMS parts follow the length except
# where an encoding changes (a Cyrillic name in a Latin text), which is ranked apart.
CANDIDATES = 20


@dataclass(frozen=True)
class Tag:
    field: str
    fallback: str


def has_tags(text: str) -> bool:
    """Whether the text is personal: one text for all needs no client's fields."""
    return "{" in text and TAG.search(text) is not None


def tags(text: str) -> list[Tag]:
    return [Tag(m.group(1), m.group(2) or "") for m in TAG.finditer(text or "")]


def fields_used(text: str) -> list[str]:
    """The fields a text names, in order of first use."""
    return list(dict.fromkeys(tag.field for tag in tags(text)))


def known_fields() -> list[str]:
    """What a text may name: `name` first, then the custom fields A-Z."""
    from messaging.models import ClientField

    return [NAME, *sorted(ClientField.known() - {NAME})]


def unknown_fields(text: str) -> list[str]:
    used = fields_used(text)
    if not used:
        return []
    known = set(known_fields())
    return [field for field in used if field not in known]


def check_fields(text: str) -> None:
    """Refuse a text that names a field no client has (a ValidationError naming it)."""
    unknown = unknown_fields(text)
    if unknown:
        raise ValidationError(
            _("Unknown field %(fields)s: no client has it. Fields you can use: %(known)s.")
            % {
                "fields": ", ".join(f"{{{f}}}" for f in unknown),
                "known": ", ".join(f"{{{f}}}" for f in known_fields()),
            },
            code="unknown_field",
        )


def render(text: str, name: str = "", attributes: dict | None = None) -> str:
    """The text as one client gets it."""
    if "{" not in text:
        return text
    attributes = attributes or {}

    def fill(match: re.Match) -> str:
        field, fallback = match.group(1), match.group(2) or ""
        value = name if field == NAME else attributes.get(field, "")
        value = value.strip() if isinstance(value, str) else ""
        return value or fallback

    return TAG.sub(fill, text)


def render_for(text: str, client) -> str:
    return render(text, client.name, client.attributes)


def with_fallbacks(text: str) -> str:
    """The text with every tag at its fallback: what a client with no fields gets."""
    return render(text)


def validate_template(text: str) -> None:
    """The campaign text field's own check: the part every client gets fits SMS_MAX_PARTS.
    The recipients' longest rendering is checked by Campaign.clean (it needs the filter)."""
    sms.validate_sms_length(with_fallbacks(text or ""))


def _value(field: str):
    return F(NAME) if field == NAME else KT(f"attributes__{field}")


def _rendered_length(text: str, found: list[Tag]):
    """SQL: how many characters the text has for each client."""
    total: Value | CombinedExpression = Value(len(TAG.sub("", text)), output_field=IntegerField())
    for tag in found:
        filled = Coalesce(NullIf(_value(tag.field), Value("")), Value(tag.fallback))
        total = total + Length(filled)
    return total


class _Bytes(Func):
    """A text's length in UTF-8 bytes."""

    function = "OCTET_LENGTH"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="LENGTH(CAST(%(expressions)s AS BLOB))")


def _beyond_ascii(found: list[Tag]) -> Q:
    """SQL: a client whose fields used hold a character outside printable ASCII (more
    bytes than characters) or a backquote, the one ASCII character GSM-7 lacks: every
    value that turns a GSM-7 text into UCS-2 (and some that do not, such as é, which the
    measuring in Python sorts out). Two lengths compared: no pattern matched per row."""
    condition = Q()
    for field in dict.fromkeys(tag.field for tag in found):
        value = _value(field)
        condition |= Q(GreaterThan(_Bytes(value), Length(value))) | Q(
            GreaterThan(StrIndex(value, Value("`")), 0)
        )
    return condition


@dataclass(frozen=True)
class Longest:
    text: str  # the rendering that takes the most SMS parts
    measure: sms.SmsMeasure
    client_id: int | None  # whose it is (None: nobody's fields are used)


def longest_rendering(text: str, clients: QuerySet) -> Longest:
    """Of `clients`, the rendering that takes the most SMS parts (the most units on a tie).

    Two bounded queries, not one rendering per client: the CANDIDATES longest renderings
    by characters, and, when the text alone would be GSM-7, the CANDIDATES longest of
    those whose fields hold a character beyond ASCII (a Cyrillic name turns the whole text
    into UCS-2: fewer characters may take more parts). Each candidate is rendered and
    measured exactly."""
    found = tags(text)
    plain = with_fallbacks(text)
    best = Longest(plain, sms.measure(plain), None)
    if not found:
        return best
    ranked = clients.order_by().annotate(_rendered=_rendered_length(text, found))
    pools = [ranked]
    if sms.encoding_of(plain) == sms.GSM7:
        pools.append(ranked.filter(_beyond_ascii(found)))
    for pool in pools:
        for pk, name, attributes in pool.order_by("-_rendered", "id").values_list(
            "id", NAME, "attributes"
        )[:CANDIDATES]:
            rendered = render(text, name, attributes)
            measure = sms.measure(rendered)
            if (measure.parts, measure.units) > (best.measure.parts, best.measure.units):
                best = Longest(rendered, measure, pk)
    return best


def sample_client(clients: QuerySet):
    """A real recipient to preview a personal text for: one with a name, if any."""
    fields = ("id", "phone", NAME, "attributes")
    named = clients.exclude(name="").order_by("id").only(*fields).first()
    return named or clients.order_by("id").only(*fields).first()
