from __future__ import annotations

import logging

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging import services, stats
from messaging.api.filters import CampaignFilter, ClientFilter, MessageFilter
from messaging.api.schema import FIELD_ERRORS
from messaging.api.serializers import (
    CampaignSerializer,
    CampaignStatsSerializer,
    ClientImportSerializer,
    ClientSerializer,
    ImportResultSerializer,
    MessageDetailSerializer,
    MessageSerializer,
    OverallStatsSerializer,
)
from messaging.models import Campaign, Client, Message

log = logging.getLogger(__name__)

BAD_REQUEST = OpenApiResponse(description="Invalid input: a message per field.")


@extend_schema_view(
    list=extend_schema(summary="List clients", description="Filter, search and order clients."),
    create=extend_schema(
        summary="Create a client", responses={201: ClientSerializer, 400: BAD_REQUEST}
    ),
    retrieve=extend_schema(summary="Get a client"),
    update=extend_schema(
        summary="Replace a client", responses={200: ClientSerializer, 400: BAD_REQUEST}
    ),
    partial_update=extend_schema(
        summary="Change some fields of a client",
        responses={200: ClientSerializer, 400: BAD_REQUEST},
    ),
    destroy=extend_schema(
        summary="Delete a client",
        description="Unsent messages to the client are cancelled; sent history stays counted.",
    ),
)
class ClientViewSet(viewsets.ModelViewSet):
    queryset = Client.objects.order_by("id")
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    lookup_value_regex = "[0-9]+"  # ASCII digits: "²" is a digit to \d but not an id
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["id", "phone", "operator_code", "tag", "timezone", "created_at"]
    ordering = ["id"]

    def perform_create(self, serializer):
        client = serializer.save()
        log.info("client created client_id=%s", client.pk)

    def perform_update(self, serializer):
        client = serializer.save()
        log.info("client updated client_id=%s", client.pk)

    def perform_destroy(self, instance):
        services.delete_client(client=instance)

    @extend_schema(
        summary="Import clients from CSV",
        description=(
            "Upload `phone,operator_code,tag,timezone` rows as multipart field `file`. "
            "Clients are upserted by phone. Any invalid row rejects the whole file (400 with "
            "the rows and reasons, nothing saved) unless `skip_invalid_rows` is true."
        ),
        request={"multipart/form-data": ClientImportSerializer},
        responses={
            200: ImportResultSerializer,
            400: OpenApiResponse(
                description=(
                    "Refused, nothing saved: the import report with the rejected rows, "
                    "or a list of messages per field (file, skip_invalid_rows)."
                ),
                response={
                    "oneOf": [
                        {"$ref": "#/components/schemas/ImportResult"},
                        FIELD_ERRORS,
                    ]
                },
            ),
        },
        examples=[
            OpenApiExample(
                "Two rows imported",
                value={"imported": True, "created": 1, "updated": 1, "rejected": []},
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_csv(self, request):
        form = ClientImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data["file"].read()
        result = services.import_clients_csv(
            data=data, skip_invalid_rows=form.validated_data["skip_invalid_rows"]
        )
        body = ImportResultSerializer(result).data
        return Response(body, status=status.HTTP_200_OK if result.imported else 400)


@extend_schema_view(
    list=extend_schema(summary="List campaigns"),
    create=extend_schema(
        summary="Create a campaign",
        description="Starts within 2 s if now is between start_at and end_at, else at start_at.",
        responses={201: CampaignSerializer, 400: BAD_REQUEST},
    ),
    retrieve=extend_schema(summary="Get a campaign with its counts"),
    update=extend_schema(
        summary="Replace a campaign",
        description="After start only name, text, end_at and the send window may change.",
        responses={200: CampaignSerializer, 400: BAD_REQUEST},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a campaign",
        description="After start only name, text, end_at and the send window may change.",
        responses={200: CampaignSerializer, 400: BAD_REQUEST},
    ),
    destroy=extend_schema(
        summary="Delete a campaign", description="A running campaign is cancelled first."
    ),
)
class CampaignViewSet(viewsets.ModelViewSet):
    lookup_value_regex = "[0-9]+"
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter

    def get_queryset(self):
        return Campaign.objects.select_related("counts").order_by("-id")

    def perform_destroy(self, instance):
        services.delete_campaign(campaign=instance)

    def _lifecycle(self, request, operation):
        campaign = operation(campaign=self.get_object())
        campaign = self.get_queryset().get(pk=campaign.pk)
        return Response(CampaignSerializer(campaign, context={"request": request}).data)

    @extend_schema(
        summary="Pause a campaign",
        request=None,
        responses={200: CampaignSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._lifecycle(
            request,
            lambda *, campaign: services.pause_campaign(campaign=campaign, user=request.user),
        )

    @extend_schema(
        summary="Resume a paused campaign",
        request=None,
        responses={200: CampaignSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._lifecycle(request, services.resume_campaign)

    @extend_schema(
        summary="Cancel a campaign",
        description="Unsent messages become cancelled.",
        request=None,
        responses={200: CampaignSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._lifecycle(request, services.cancel_campaign)

    @extend_schema(summary="Campaign statistics", responses=CampaignStatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        return Response(CampaignStatsSerializer(stats.campaign_stats(self.get_object())).data)


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


class OverallStatsView(APIView):
    @extend_schema(
        summary="Overall statistics",
        description="Every campaign with its message counts by status, and totals by status.",
        responses=OverallStatsSerializer,
    )
    def get(self, request):
        return Response(OverallStatsSerializer(stats.overall_stats()).data)
