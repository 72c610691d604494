"""Message counts by status and send rates: one campaign's and every campaign's."""

from __future__ import annotations

from rest_framework import serializers


class StatusCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    sending = serializers.IntegerField(help_text="In flight at a worker right now.")
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    expired = serializers.IntegerField()
    cancelled = serializers.IntegerField()


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
