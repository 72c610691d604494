from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from messaging import services
from messaging.api.strict import OffsetDateTimeField, RejectUnknownFieldsMixin
from messaging.campaigns.phones import normalise_phone
from messaging.campaigns.timezones import resolve_timezone
from messaging.campaigns.validators import (
    ATTRIBUTE_VALUE_MAX_LENGTH,
    ATTRIBUTES_MAX_KEYS,
    TAG_MAX_LENGTH,
    TAG_TOO_LONG,
    clean_attributes,
    operator_code_validator,
    phone_validator,
    validate_attributes,
)
from messaging.models import (
    Campaign,
    Client,
    DeliveryAttempt,
    Message,
    MessageStatus,
    StopListEntry,
)
from messaging.models.campaigns import FILTER_FIELDS, INPUT_FIELDS
from messaging.reporting import stats

PHONE_HELP = (
    "A Russian mobile number. Stored and returned as 11 ASCII digits starting with 7 "
    "(79161234567); the API also accepts it as typed, the same as the web forms and the CSV "
    "import do: +79161234567, +7 (916) 123-45-67, 8 916 123 45 67, 89161234567 or "
    "9161234567 (spaces, brackets, dots and dashes anywhere). Only the digits 0-9: other "
    "Unicode digits (٩, ²) are refused with a 400."
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


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "example": {"Мобильный": "phone", "Город": "field:city", "Комментарий": "ignore"},
    }
)
class MappingField(serializers.JSONField):
    """A JSON object sent as one multipart field."""


class ClientImportSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text=(
            "CSV (UTF-8 with or without BOM, Windows-1251 or UTF-16; separated by commas, "
            "semicolons or tabs, all detected) or an Excel workbook (XLSX, first sheet). The "
            "first row names the columns, in English or Russian: phone (телефон, номер, "
            "мобильный), operator_code (код оператора), tag (тег, метка), timezone "
            "(часовой пояс), name (имя, ФИО), consent (согласие: да/нет, yes/no or the date it "
            "was given; an import only adds consent, never withdraws it), consent_source "
            "(источник согласия), field:<name> for a custom field. Only phone is required. "
            "Phones may be typed as in the forms (+7 (916) 123-45-67, 8 916 123 45 67) or "
            "stored by Excel as numbers. At most IMPORT_MAX_BYTES (20 MiB by "
            "default): a larger file is refused with 413."
        )
    )
    mapping = MappingField(
        binary=True,
        required=False,
        help_text=(
            "Which field each column holds, for headers Herald does not recognise: a JSON "
            'object of {"header as written": target}, the target being phone, '
            "operator_code, tag, timezone, name, consent, consent_source, field:<name> (a "
            "custom field) or ignore. Columns left out are matched by their header. Without "
            "it, a column Herald does not know refuses the file with a 400 naming it."
        ),
    )
    skip_invalid_rows = serializers.BooleanField(
        default=False,
        help_text=(
            "When false (default) any invalid row rejects the whole file and nothing is saved. "
            "When true the valid rows are saved and the invalid ones reported."
        ),
    )


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line number in the file (the header is line 1).")
    phone = serializers.CharField(
        help_text="The row's phone (normalised when valid, else as written); empty if none."
    )
    # DRF's metaclass takes declared fields out of the class: no clash with .errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per column; `row` for a row with the wrong number of values.",
    )


class ImportResultSerializer(serializers.Serializer):
    imported = serializers.BooleanField(help_text="False when invalid rows rejected the file.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    repeated = serializers.IntegerField(
        help_text="Rows whose phone comes again later in the file: the last row was imported."
    )
    rejected_count = serializers.IntegerField(help_text="Every rejected row, counted.")
    read_as = serializers.CharField(
        help_text="How the file was read, e.g. CSV, Windows-1251, separated by «;»."
    )
    rejected = RowErrorSerializer(
        many=True,
        help_text=(
            "The first 1,000 rejected rows with their reasons; ask with ?rejected_csv=1 for a "
            "CSV of every one."
        ),
    )


class StatusCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    sending = serializers.IntegerField(help_text="In flight at a worker right now.")
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    expired = serializers.IntegerField()
    cancelled = serializers.IntegerField()


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "21:00"}
)
class TimeOfDayField(serializers.TimeField):
    """A wall-clock time without a zone (the client's own), so not OpenAPI's `format: time`."""


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "An evening campaign to two operators",
            value={
                "name": "Black Friday",
                "text": "Everything -30% today only!",
                "start_at": "2026-11-27T09:00:00+03:00",
                "end_at": "2026-11-28T09:00:00+03:00",
                "operator_codes": ["916", "926"],
                "tags": ["vip"],
                "send_window_start": "10:00",
                "send_window_end": "21:00",
            },
            request_only=True,
        )
    ]
)
class CampaignSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    start_at = OffsetDateTimeField(
        help_text="When sending may start: ISO 8601 with an offset or Z "
        "(2026-12-01T10:00:00+03:00); a time without one is refused with a 400."
    )
    end_at = OffsetDateTimeField(
        help_text="Deadline, with an offset or Z: no request starts at or after it."
    )
    operator_codes = serializers.ListField(
        child=serializers.CharField(max_length=3, validators=[operator_code_validator]),
        required=False,
        default=list,
        help_text="Operator codes to target; empty means every operator.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(
            max_length=TAG_MAX_LENGTH,
            allow_blank=True,
            error_messages={"max_length": TAG_TOO_LONG},
        ),
        required=False,
        default=list,
        help_text="Tags to target; empty means every tag.",
    )
    counts = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField(
        help_text="Share of messages in a final status (0 to 1)."
    )
    send_window_start = TimeOfDayField(
        required=False,
        allow_null=True,
        help_text="Start of the daily window in each client's local time (HH:MM).",
    )
    send_window_end = TimeOfDayField(
        required=False,
        allow_null=True,
        help_text="End of the daily window; may be before the start (wraps midnight).",
    )
    draft = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="On create only. true: save a draft, which nothing sends until it is "
        "launched (POST .../launch/, after GET .../review/). false (the default): the "
        "campaign starts by itself at start_at.",
    )
    launched_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who launched the draft (null: never a draft, or not launched yet).",
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            *INPUT_FIELDS,
            "draft",
            "status",
            "counts",
            "progress",
            "launched_at",
            "launched_by",
            "in_flight_at_cancel",
            "left_out_at_start",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "launched_at",
            "in_flight_at_cancel",
            "left_out_at_start",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "name": {"help_text": "Optional label."},
            "launched_at": {"help_text": "When the draft was launched."},
            "in_flight_at_cancel": {
                "help_text": "Messages already with the provider when the campaign was "
                "cancelled: each is counted as sent if the provider accepts it."
            },
            "text": {
                "help_text": "The message text sent to every matching client. Merge tags "
                "make it personal: {name}, {field} (a custom field some client has) and "
                "{name|fallback} (used when the client has no such value); a field no "
                "client has is a 400 naming it. At most SMS_MAX_PARTS SMS parts (6 by "
                "default), counted on the longest rendering among the recipients: 160 "
                "GSM-7 characters in one SMS, 153 per part; any character outside GSM-7 "
                "(e.g. Cyrillic) makes it UCS-2: 70 in one SMS, 67 per part. A longer text "
                "is a 400."
            },
            "promotional": {
                "help_text": "Advertising (38-FZ art. 18): only clients with consent_at are "
                "targeted. Fixed once the campaign has started."
            },
            "left_out_at_start": {
                "help_text": "Matching clients the target selection left out, by reason: "
                '[{"code": "opted_out" | "stop_list" | "no_consent", "count": n}]; null '
                "before the start."
            },
        }

    @extend_schema_field(StatusCountsSerializer)
    def get_counts(self, campaign: Campaign) -> dict[str, int]:
        # All zero without a counters row: a campaign deleted by another request between
        # this one's edit and its answer (found by the API fuzzing), never a null.
        return stats.counts_of(getattr(campaign, "counts", None))

    @extend_schema_field(serializers.FloatField())
    def get_progress(self, campaign: Campaign) -> float:
        counts = getattr(campaign, "counts", None)
        if counts is None or counts.total == 0:
            return 0.0
        return round(counts.done / counts.total, 4)

    def validate(self, attrs):
        for key in FILTER_FIELDS:
            if key in attrs:
                attrs[key] = _unique(attrs[key])
        # The rules across fields (Campaign.clean) run once, in the service's full_clean;
        # its ValidationError is a field-keyed 400 (messaging.api.errors).
        return attrs

    def create(self, validated_data):
        user = self.context["request"].user
        draft = validated_data.pop("draft", False)
        # An in-window campaign answers `running`, not a `scheduled` stale a moment later.
        return services.create_campaign(values=validated_data, user=user, draft=draft)

    def update(self, instance, validated_data):
        sent = "draft" in self.initial_data if hasattr(self.initial_data, "keys") else False
        draft = validated_data.pop("draft", None)
        if sent and draft != instance.is_draft:
            raise serializers.ValidationError(
                {
                    "draft": [
                        _(
                            "A campaign becomes a draft only when created; a draft is "
                            "launched with POST /api/campaigns/{id}/launch/."
                        )
                    ]
                }
            )
        # An edit that brings the start to now answers `running`, like a create.
        return services.update_campaign(campaign=instance, values=validated_data)


class CampaignStatsSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    status = serializers.CharField()
    counts = StatusCountsSerializer()
    total = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Messages in a final status.")
    progress = serializers.FloatField(help_text="done / total (0 to 1).")
    minute_start = serializers.DateTimeField(
        help_text="Start of the current clock minute (UTC) the two counts below refer to."
    )
    sent_this_minute = serializers.IntegerField(
        help_text="Messages sent since minute_start (the current minute, still filling): exact."
    )
    sent_previous_minute = serializers.IntegerField(
        help_text="Messages sent in the whole minute before minute_start: exact. Sends are "
        "counted per clock minute, so there is no exact 'last 60 seconds' figure."
    )
    send_rate_per_second = serializers.FloatField(
        help_text="sent_previous_minute / 60: the average rate over the previous whole minute."
    )


class CampaignSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    counts = StatusCountsSerializer()
    total = serializers.IntegerField()


class OverallStatsSerializer(serializers.Serializer):
    totals = StatusCountsSerializer(help_text="Messages of every campaign by status.")
    total_messages = serializers.IntegerField()
    campaigns_by_status = serializers.DictField(child=serializers.IntegerField())
    campaigns = CampaignSummarySerializer(many=True)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["id", "started_at", "duration_ms", "http_status", "outcome", "response_excerpt"]


class MessageSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=MessageStatus.choices, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "campaign",
            "client",
            "phone",
            "status",
            "created_at",
            "sent_at",
            "attempts",
            "last_error",
            "next_attempt_at",
            "text",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "text": {
                "help_text": "The text actually sent, merge tags filled in for this client "
                "(empty until the message is first handed to the provider)."
            }
        }


class MessageDetailSerializer(MessageSerializer):
    delivery_attempts = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "delivery_attempts"]
        read_only_fields = fields


class RetryFailedSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="Failed messages queued again.")
    campaign = CampaignSerializer(
        help_text="The campaign after the retry (a finished one runs again)."
    )


class LeftOutSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The reason, as a stable code.")
    # DRF's metaclass takes declared fields out of the class: no clash with Field.label.
    label = serializers.CharField(help_text="The reason in words.")  # type: ignore[assignment]
    count = serializers.IntegerField(help_text="Matching clients left out for it.")


class ReviewWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["no_recipients", "window_never_opens", "short", "start_past", "long_text"]
    )
    message = serializers.CharField(source="text")


class CampaignReviewSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(source="campaign.pk")
    status = serializers.CharField(source="campaign.status")
    recipients = serializers.IntegerField(
        help_text="Clients that would get the message if it were launched now."
    )
    all_clients = serializers.BooleanField(
        help_text="The filter is empty: every client is a recipient."
    )
    left_out = LeftOutSerializer(
        many=True,
        help_text="Matching clients left out, by reason: opted_out, stop_list, no_consent "
        "(a promotional campaign only); a client left out for several reasons is counted "
        "under the first.",
    )
    encoding = serializers.CharField(source="sms.encoding", help_text="GSM-7 or UCS-2.")
    characters = serializers.IntegerField(source="sms.characters")
    parts_per_message = serializers.IntegerField(
        source="sms.parts",
        help_text="SMS parts of the longest rendering among the recipients (of the text "
        "itself when it has no merge tags).",
    )
    longest_text = serializers.CharField(
        help_text="That longest rendering: the text as the recipient with the longest "
        "personal fields would get it."
    )
    total_parts = serializers.IntegerField(help_text="recipients times parts_per_message.")
    part_price = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        allow_null=True,
        coerce_to_string=True,
        help_text="SMS_PART_PRICE; null when not set.",
    )
    currency = serializers.CharField(help_text="SMS_CURRENCY (ISO 4217).")
    cost = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        allow_null=True,
        coerce_to_string=True,
        help_text="total_parts times part_price, rounded to the currency; null without a price.",
    )
    start_at = serializers.DateTimeField(source="campaign.start_at")
    end_at = serializers.DateTimeField(source="campaign.end_at")
    sending_starts_at = serializers.DateTimeField(
        source="starts_at", help_text="The start, or now when the start is already past."
    )
    send_window_start = TimeOfDayField(source="campaign.send_window_start", allow_null=True)
    send_window_end = TimeOfDayField(source="campaign.send_window_end", allow_null=True)
    send_window = serializers.CharField(
        source="campaign.send_window_text", help_text="The send window in words."
    )
    windows_open = serializers.IntegerField(
        source="coverage.opens",
        help_text="Recipients whose send window opens at least once before the end.",
    )
    windows_never_open = serializers.IntegerField(
        source="coverage.never_opens",
        help_text="Recipients whose send window does not open before the end: their "
        "messages will expire unsent.",
    )
    warnings = ReviewWarningSerializer(
        many=True, help_text="What to know before launching; none of them blocks it."
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class OptOutSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Why (as the person said it); optional.",
    )


class PhonesSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40),
        min_length=1,
        max_length=10_000,
        help_text="Phones as typed (normalised as the forms do); at most 10,000.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="Why; optional."
    )


class BulkOptOutResultSerializer(serializers.Serializer):
    opted_out = serializers.IntegerField(help_text="Clients opted out now.")
    added_to_stop_list = serializers.IntegerField()
    cancelled_messages = serializers.IntegerField(
        help_text="Pending messages to these phones, cancelled."
    )


class StopListEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = StopListEntry
        fields = ["phone", "added_at", "via", "reason"]
        read_only_fields = fields


class StopListAddResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    already = serializers.IntegerField(help_text="Phones that were on the list already.")
    cancelled_messages = serializers.IntegerField()


class StopListImportSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV (any Excel CSV, as the client import reads it) or XLSX: the column "
        "headed phone (телефон, номер), or the first column."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class StopListRejectedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    phone = serializers.CharField()
    error = serializers.CharField()


class StopListImportResultSerializer(StopListAddResultSerializer):
    rejected_count = serializers.IntegerField()
    rejected = StopListRejectedRowSerializer(many=True, help_text="The first 100.")
    read_as = serializers.CharField()
