"""Messages: a campaign's, and one with its delivery attempts (/api/messages/{id}/)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from messaging.api.filters import MessageFilter
from messaging.api.serializers import MessageDetailSerializer, MessageSerializer
from messaging.models import Campaign, Message


@extend_schema_view(
    list=extend_schema(
        summary="Messages of a campaign",
        description="Paginated; filter by `status`.",
        parameters=[
            OpenApiParameter(
                "campaign_pk", int, OpenApiParameter.PATH, description="The campaign's id."
            )
        ],
    )
)
class CampaignMessagesViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter

    queryset = Message.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        campaign = get_object_or_404(Campaign, pk=self.kwargs["campaign_pk"])
        return Message.objects.filter(campaign=campaign).order_by("id")


@extend_schema_view(retrieve=extend_schema(summary="One message with its delivery attempts"))
class MessageViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = "[0-9]+"
    serializer_class = MessageDetailSerializer
    queryset = Message.objects.prefetch_related("delivery_attempts")
