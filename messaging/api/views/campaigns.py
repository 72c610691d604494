"""/api/campaigns/: campaigns, their lifecycle actions, the review before launch and statistics."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from messaging import services
from messaging.api.filters import CampaignFilter
from messaging.api.serializers import (
    CampaignReviewSerializer,
    CampaignSerializer,
    CampaignStatsSerializer,
    RetryFailedSerializer,
)
from messaging.api.strict import refuse_body
from messaging.api.views.common import BAD_REQUEST
from messaging.campaigns.review import review_campaign
from messaging.models import Campaign
from messaging.reporting import stats
from security import audit


@extend_schema_view(
    list=extend_schema(summary="List campaigns"),
    create=extend_schema(
        summary="Create a campaign",
        description=(
            "By default a campaign starts by itself: one whose window holds now starts in "
            "this request (the answer says `running` and its messages are counted as "
            "pending), a future one answers `scheduled` and starts at start_at. With "
            '`"draft": true` it is saved as a `draft`, which nothing sends: review it with '
            "GET .../review/ and launch it with POST .../launch/. Times need an offset or Z."
        ),
        responses={201: CampaignSerializer, 400: BAD_REQUEST},
    ),
    retrieve=extend_schema(summary="Get a campaign with its counts"),
    update=extend_schema(
        summary="Replace a campaign",
        description="A draft changes freely. After start only name, text, end_at and the "
        "send window may change; a change of the filter is a 400.",
        responses={200: CampaignSerializer, 400: BAD_REQUEST},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a campaign",
        description="A draft changes freely. After start only name, text, end_at and the "
        "send window may change; a change of the filter is a 400.",
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
        refuse_body(request)
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
        # Resumed in its window before it ever started: it starts now, and says so.
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

    @extend_schema(
        summary="Retry the failed messages",
        description=(
            "The same action as the web UI's “Retry failed”: every failed message goes "
            "back to the queue and is tried again before the campaign's end; a finished "
            "campaign runs again. Refused with 400 for a cancelled campaign or one whose "
            "end has passed (extend `end_at` first). No body."
        ),
        request=None,
        responses={200: RetryFailedSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request, pk=None):
        refuse_body(request)
        requeued = services.retry_failed_messages(campaign=self.get_object())
        campaign = self.get_queryset().get(pk=pk)
        body = {
            "requeued": requeued,
            "campaign": CampaignSerializer(campaign, context={"request": request}).data,
        }
        return Response(body)

    @extend_schema(
        summary="Launch a draft",
        description=(
            "The draft becomes `scheduled` and starts by itself at start_at, or at once "
            "(the answer says `running`) when its window holds now. Who launched it and "
            "when are recorded (`launched_by`, `launched_at`, and the audit trail). "
            "Refused with 400 for a campaign that is not a draft or whose end is past. "
            "No body."
        ),
        request=None,
        responses={200: CampaignSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        return self._lifecycle(
            request,
            lambda *, campaign: services.launch_campaign(campaign=campaign, **audit.by(request)),
        )

    @extend_schema(
        summary="Review a campaign before launch",
        description=(
            "What the campaign would do if launched now, computed live by the rules the "
            "engine applies: recipients (and who is left out, by reason), SMS parts per "
            "message and in total, the estimated cost (with SMS_PART_PRICE set), how many "
            "recipients' send windows open before the end, and warnings that block "
            "nothing. 400 once the campaign has started (its figures are in stats/)."
        ),
        responses={200: CampaignReviewSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["get"])
    def review(self, request, pk=None):
        return Response(CampaignReviewSerializer(review_campaign(self.get_object())).data)

    @extend_schema(summary="Campaign statistics", responses=CampaignStatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        return Response(CampaignStatsSerializer(stats.campaign_stats(self.get_object())).data)
