"""Campaigns as the API reads and answers them; a create or an edit is one service call."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from messaging import services
from messaging.api.serializers.fields import TimeOfDayField
from messaging.api.serializers.stats import StatusCountsSerializer
from messaging.api.strict import OffsetDateTimeField, RejectUnknownFieldsMixin
from messaging.campaigns.validators import TAG_MAX_LENGTH, TAG_TOO_LONG, operator_code_validator
from messaging.models import Campaign
from messaging.models.campaigns import FILTER_FIELDS, INPUT_FIELDS
from messaging.reporting import stats


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


class RetryFailedSerializer(serializers.Serializer):
    requeued = serializers.IntegerField(help_text="Failed messages queued again.")
    campaign = CampaignSerializer(
        help_text="The campaign after the retry (a finished one runs again)."
    )
