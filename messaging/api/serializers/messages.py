"""Messages, one with its delivery attempts (/api/messages/{id}/, a campaign's messages)."""

from __future__ import annotations

from rest_framework import serializers

from messaging.models import DeliveryAttempt, Message, MessageStatus


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
