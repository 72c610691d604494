"""GET /api/provider/: the sending provider as the workers see it, for Managers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api.permissions import ManagersOnly
from messaging.models import CircuitState
from messaging.reporting.provider_state import (
    SENDING_HELD,
    SENDING_NORMAL,
    SENDING_STOPPED,
    provider_state,
)


class ProviderStateSerializer(serializers.Serializer):
    sending = serializers.ChoiceField(
        choices=[SENDING_NORMAL, SENDING_HELD, SENDING_STOPPED],
        help_text="normal; held (the circuit breaker holds sending: the provider looks "
        "down); stopped (the provider rejects Herald's credentials).",
    )
    summary = serializers.CharField(help_text="The state in plain words.")
    circuit = serializers.ChoiceField(choices=CircuitState.choices)
    opened_until = serializers.DateTimeField(
        allow_null=True, help_text="While the circuit is open: when the next probe may go."
    )
    cooldown_seconds = serializers.FloatField(help_text="The circuit breaker's current hold.")
    credentials_rejected = serializers.BooleanField(
        help_text="The provider answered 401/403: sending is stopped until the token is fixed."
    )
    credentials_detail = serializers.CharField(help_text="The provider's answer to the token.")
    last_error = serializers.CharField(help_text="The last failure the engine recorded.")
    latency_ms = serializers.FloatField(allow_null=True, help_text="Recent typical latency.")
    error_rate = serializers.FloatField(
        allow_null=True, help_text="Share (0-1) of recent requests that failed."
    )
    updated_at = serializers.DateTimeField(
        allow_null=True, help_text="When a worker last changed this state (null: never)."
    )


class ProviderStateView(APIView):
    permission_classes = [ManagersOnly]

    @extend_schema(
        summary="Provider state",
        description="Whether Herald can send: credentials refused, circuit breaker open, the "
        "last error, recent latency and error rate. Managers only. /readyz shows the same "
        "state without the provider's answers, and never fails readiness for it.",
        responses=ProviderStateSerializer,
    )
    def get(self, request):
        return Response(ProviderStateSerializer(provider_state()).data)
