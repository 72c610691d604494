"""/api/stats/: every campaign's message counts, and the totals."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api.serializers import OverallStatsSerializer
from messaging.reporting import stats


class OverallStatsView(APIView):
    @extend_schema(
        summary="Overall statistics",
        description=(
            "Every campaign but drafts (which send nothing) with its message counts by "
            "status, the totals by status, and how many campaigns are in each status "
            "(drafts included, as `draft`)."
        ),
        responses=OverallStatsSerializer,
    )
    def get(self, request):
        return Response(OverallStatsSerializer(stats.overall_stats()).data)
