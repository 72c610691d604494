"""Form fields reading what people type: time zones, phones, custom fields, comma lists."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from messaging.campaigns.phones import normalise_phone
from messaging.campaigns.timezones import (
    GEOGRAPHIC_REGIONS,
    RUSSIAN_ZONES,
    known_timezones,
    resolve_timezone,
    zone_search_words,
)
from messaging.campaigns.validators import (
    check_item_count,
    clean_attributes,
    phone_validator,
    prohibit_null_characters,
    split_list,
    validate_attributes,
)
from messaging.reporting.humanize import zone_name

# Geographic names only: no localtime, Factory, Etc/GMT+3 (sign inverted), US/..., W-SU...
PICKER_REGIONS = GEOGRAPHIC_REGIONS


def _zone_label(name: str) -> str:
    """A zone by its city in the viewer's language and its offset: Москва (UTC+03:00)."""
    offset = datetime.now(ZoneInfo(name)).strftime("%z")
    return f"{zone_name(name)} (UTC{offset[:3]}:{offset[3:]})"


def timezone_choices() -> list:
    """Grouped for the picker: Russia first (west to east), then UTC and the world A-Z."""
    known = known_timezones()
    russian = [name for name in RUSSIAN_ZONES if name in known]
    others = sorted(
        name
        for name in known
        if name.split("/", 1)[0] in PICKER_REGIONS and "/" in name and name not in russian
    )
    return [
        (_("Russia"), [(name, _zone_label(name)) for name in russian]),
        (_("Other zones"), [("UTC", "UTC"), *((name, _zone_label(name)) for name in others)]),
    ]


class ZoneSelect(forms.Select):
    """Each option carries the words its search box matches: cities in Russian and English,
    MSK±N and UTC+N (messaging.campaigns.timezones), so typing "Москва" finds Europe/Moscow."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        words = zone_search_words(str(value)) if value else ""
        if words:
            option["attrs"]["data-search"] = words
        return option


class TimezoneChoiceField(forms.ChoiceField):
    """The picker's zones; a zone outside them that the validator knows (an alias kept by
    the API, e.g. Etc/GMT-3) stays valid so an old record can still be edited. A zone posted
    as people write it ("Москва", "МСК+4", "UTC+3") is read by the one resolver
    (messaging.campaigns.timezones); an empty one is `default` when there is one."""

    widget = ZoneSelect

    def __init__(self, *, default=None, **kwargs):
        kwargs.setdefault("choices", timezone_choices)
        self.default = default
        if default is not None:
            kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("data-searchable", "")
        self.widget.attrs.setdefault("data-search-label", _("Find a zone by city"))
        self.widget.attrs.setdefault("data-search-placeholder", _("e.g. Moscow, Vladivostok"))

    def to_python(self, value) -> str:
        text = super().to_python(value)
        default = self.default() if callable(self.default) else self.default
        if not text.strip() and not default:
            return ""
        return resolve_timezone(text, default=default)

    def valid_value(self, value) -> bool:
        return super().valid_value(value) or value in known_timezones()

    def keep(self, current: str) -> None:
        """List `current` first when the picker leaves it out (an alias such as Etc/GMT-3),
        so a form showing it never silently changes it on save."""
        # The picker's choices: a list of (group, options), as timezone_choices makes them.
        listed = {value for _group, options in self.choices for value, _label in options}  # type: ignore[misc, union-attr]
        if current and current not in listed and current in known_timezones():
            self.choices = [(_("Current zone"), [(current, current)]), *self.choices]  # type: ignore[misc]


class PhoneField(forms.CharField):
    """A phone as people type it (+7 (916) 123-45-67, 8 916 ...), stored as 79161234567."""

    default_validators = [phone_validator]

    def to_python(self, value) -> str:
        return normalise_phone(super().to_python(value) or "")


class AttributesFormField(forms.CharField):
    """Custom fields typed one per line as `name: text`, kept as a dict."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": gettext_lazy("city: Kazan")})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{key}: {text}" for key, text in value.items())
        return value

    # A dict from one text box: CharField's cleaning of the text, then the parse.
    def to_python(self, value) -> dict:  # type: ignore[override]
        if isinstance(value, dict):
            return value
        text = super().to_python(value) or ""
        fields: dict[str, str] = {}
        errors = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, colon, item = line.partition(":")
            if not colon:
                errors.append(
                    gettext("Line %(line)s: write the field as name: text.") % {"line": number}
                )
                continue
            fields[key.strip()] = item.strip()
        if errors:
            raise ValidationError(errors)
        return clean_attributes(fields)

    def validate(self, value) -> None:
        super().validate(value)
        validate_attributes(value)


class ListField(forms.CharField):
    """A comma-separated list of short values, shown and typed as "916, 925"."""

    def __init__(self, *, item_validator, **kwargs):
        self.item_validator = item_validator
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    # Values that never hold a space (operator codes): "916 926" is read as two.
    split_on_spaces = False

    # A list from one text box: CharField's cleaning of the text, then the split.
    def to_python(self, value) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):  # a disabled field gives back the instance's list
            value = ",".join(value)
        text = super().to_python(value) or ""
        if self.split_on_spaces:
            text = ",".join(text.split())
        return split_list(text)

    def item_hint(self, item: str) -> str | None:
        """A better word than the rule's for a typical slip, or None."""
        return None

    def validate(self, value) -> None:
        super().validate(value)
        check_item_count(value)  # one error for a huge list, not one per item
        errors = []
        for item in value:
            try:
                # CharField's own check looks at str(list), where a NUL reads "\\x00";
                # PostgreSQL refuses NUL in text (a 500 found by the UI fuzz pass).
                prohibit_null_characters(item)
            except ValidationError as exc:
                errors.extend(exc.messages)
                continue
            try:
                self.item_validator(item)
            except ValidationError as exc:
                # The rule's own words, after the item they are about.
                shown = item if len(item) <= 20 else f"{item[:20]}…"
                hint = self.item_hint(item)
                errors.extend(
                    f"{shown}: {message}" for message in ([hint] if hint else exc.messages)
                )
        if errors:
            raise ValidationError(errors)


class OperatorCodesField(ListField):
    """Operator codes typed as "916, 926" or "916 926"; a name ("МТС") gets a hint."""

    split_on_spaces = True

    def item_hint(self, item: str) -> str | None:
        if any(ch.isalpha() for ch in item) and not any(ch.isdigit() for ch in item):
            return gettext(
                "operator codes are digits, e.g. 916 or 925 (the 3 digits after +7), "
                "not an operator's name"
            )
        return None


class TagsField(ListField):
    """Tags, comma-separated; a space-separated list of known tags gets a hint."""

    def validate(self, value) -> None:
        super().validate(value)
        from dashboard.filters import client_tags

        known = set(client_tags())
        hints = []
        for item in value:
            words = item.split()
            # "vip new" when clients have "vip" and "new" but no "vip new": two tags meant.
            if len(words) > 1 and item not in known and set(words) <= known:
                example = ", ".join(words)
                hints.append(
                    f"{item}: "
                    + gettext("separate tags with commas: %(example)s") % {"example": example}
                )
        if hints:
            raise ValidationError(hints)
