"""The REST API's views, a module per resource; urls.py and everyone else import them from here."""

from __future__ import annotations

from messaging.api.views.campaigns import CampaignViewSet
from messaging.api.views.clients import ClientViewSet
from messaging.api.views.common import BAD_REQUEST, XLSX
from messaging.api.views.messages import CampaignMessagesViewSet, MessageViewSet
from messaging.api.views.stats import OverallStatsView
from messaging.api.views.stop_list import StopListViewSet

__all__ = [
    "BAD_REQUEST",
    "XLSX",
    "CampaignMessagesViewSet",
    "CampaignViewSet",
    "ClientViewSet",
    "MessageViewSet",
    "OverallStatsView",
    "StopListViewSet",
]
