"""A campaign's review before launch (GET /api/campaigns/{id}/review/)."""

from __future__ import annotations

from rest_framework import serializers

from messaging.api.serializers.fields import TimeOfDayField


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
