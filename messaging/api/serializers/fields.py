"""The API's own field types, values read as people type them, and the bare error body."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.campaigns.phones import normalise_phone
from messaging.campaigns.timezones import resolve_timezone
from messaging.campaigns.validators import (
    ATTRIBUTE_VALUE_MAX_LENGTH,
    ATTRIBUTES_MAX_KEYS,
    clean_attributes,
    validate_attributes,
)


@extend_schema_field({"type": "string", "example": "79161234567"})
class PhoneField(serializers.CharField):
    """A phone as typed, normalised before it is validated (messaging.campaigns.phones)."""

    def to_internal_value(self, data):
        return normalise_phone(super().to_internal_value(data))


class TimezoneField(serializers.CharField):
    """A zone as people write it ("Москва", "МСК+4", "UTC+3"), stored as its IANA name;
    empty is CLIENT_DEFAULT_TIMEZONE."""

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and not data.strip():
            return settings.CLIENT_DEFAULT_TIMEZONE  # CharField would keep "" as it is
        return super().run_validation(data)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return resolve_timezone(text, default=settings.CLIENT_DEFAULT_TIMEZONE)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX_LENGTH},
        "maxProperties": ATTRIBUTES_MAX_KEYS,
        "example": {"city": "Казань", "card": "Gold"},
    }
)
class AttributesField(serializers.JSONField):
    """Custom fields: a flat object of short texts (messaging.campaigns.validators)."""

    def to_internal_value(self, data):
        # A list passes through clean_attributes as it is, for validate_attributes to refuse.
        value = clean_attributes(super().to_internal_value(data))  # type: ignore[arg-type]
        try:
            validate_attributes(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"Мобильный": "phone", "Город": "field:city", "Комментарий": "ignore"},
    }
)
class MappingField(serializers.JSONField):
    """A JSON object sent as one multipart field."""


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "21:00"}
)
class TimeOfDayField(serializers.TimeField):
    """A wall-clock time without a zone (the client's own), so not OpenAPI's `format: time`."""
