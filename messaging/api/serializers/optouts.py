"""Opting out and the stop list: the bodies the API reads and the results it answers."""

from __future__ import annotations

from rest_framework import serializers

from messaging.api.strict import RejectUnknownFieldsMixin
from messaging.models import StopListEntry


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
