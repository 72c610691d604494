"""Clients as the API reads and answers them (/api/clients/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from messaging.api.serializers.fields import AttributesField, PhoneField, TimezoneField
from messaging.api.strict import RejectUnknownFieldsMixin
from messaging.campaigns.validators import TAG_TOO_LONG, operator_code_validator, phone_validator
from messaging.models import Client, StopListEntry

PHONE_HELP = (
    "A Russian mobile number. Stored and returned as 11 ASCII digits starting with 7 "
    "(79161234567); the API also accepts it as typed, the same as the web forms and the CSV "
    "import do: +79161234567, +7 (916) 123-45-67, 8 916 123 45 67, 89161234567 or "
    "9161234567 (spaces, brackets, dots and dashes anywhere). Only the digits 0-9: other "
    "Unicode digits (٩, ²) are refused with a 400."
)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A client in Moscow",
            value={
                "phone": "79161234567",
                "operator_code": "916",
                "tag": "vip",
                "timezone": "Europe/Moscow",
                "name": "Анна",
                "attributes": {"city": "Москва"},
            },
            request_only=True,
        )
    ]
)
class ClientSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    phone = PhoneField(
        max_length=40,
        validators=[
            phone_validator,
            UniqueValidator(
                queryset=Client.objects.all(), message="A client with this phone already exists."
            ),
        ],
        help_text=PHONE_HELP,
    )
    operator_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=3,
        validators=[operator_code_validator],
        help_text="3 digits; defaults to digits 2-4 of the phone when left out.",
    )
    timezone = TimezoneField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text=(
            "The client's time zone, answered as an IANA name (Europe/Moscow). Accepted as "
            "people write it: an IANA name, a city in Russian or English (Москва, "
            "Novosibirsk), MSK/МСК with an offset (МСК+4), or an offset from UTC in whole "
            "hours (UTC+3, GMT+3, +03:00; an offset Russia has maps to its Russian zone). "
            "Left out or empty: the CLIENT_DEFAULT_TIMEZONE setting (Europe/Moscow unless "
            "set)."
        ),
    )
    attributes = AttributesField(
        required=False,
        help_text=(
            "Custom fields for personal texts: an object of at most 20 names (a letter, then "
            "letters, digits 0-9 or _; not a client field such as name) with texts of at "
            "most 200 characters. An empty text removes the field. A PUT or PATCH with "
            "attributes replaces them all."
        ),
    )

    class Meta:
        model = Client
        fields = [
            "id",
            "phone",
            "operator_code",
            "tag",
            "timezone",
            "name",
            "attributes",
            "consent_at",
            "consent_source",
            "opted_out_at",
            "opted_out_via",
            "opted_out_reason",
            "stop_listed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "opted_out_at",
            "opted_out_via",
            "opted_out_reason",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "tag": {
                "help_text": "Free text label used by campaign filters (may be empty).",
                "error_messages": {"max_length": TAG_TOO_LONG},
            },
            "name": {"help_text": "How to address the client in a text (may be empty)."},
            "consent_at": {
                "help_text": "When the client consented to promotional messages (null: no "
                "consent; a promotional campaign leaves them out)."
            },
            "consent_source": {"help_text": "Where the consent was given (a form, a page)."},
            "opted_out_at": {
                "help_text": "When the client opted out (null: not opted out). Set with POST "
                "/api/clients/{id}/opt-out/, cleared with .../opt-in/; an import never "
                "clears it."
            },
            "opted_out_via": {"help_text": "How: hand (the web UI), import or api."},
            "opted_out_reason": {"help_text": "Why, as given."},
        }

    stop_listed = serializers.SerializerMethodField(
        help_text="The phone is on the stop list: never messaged, whatever the client says."
    )

    @extend_schema_field(serializers.BooleanField())
    def get_stop_listed(self, client: Client) -> bool:
        listed = getattr(client, "stop_listed", None)
        if listed is None:
            listed = StopListEntry.objects.filter(phone=client.phone).exists()
        return bool(listed)

    def validate(self, attrs):
        phone = attrs.get("phone") or (self.instance.phone if self.instance else "")
        if not attrs.get("operator_code") and ("operator_code" in attrs or not self.instance):
            attrs["operator_code"] = Client.default_operator_code(phone)
        return attrs
