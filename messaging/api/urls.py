from django.urls import include, path
from rest_framework.routers import DefaultRouter

from messaging.api import views
from messaging.api.provider import ProviderStateView

app_name = "api"

router = DefaultRouter(trailing_slash=True)
# No `.json`/`.api` suffix routes: the actions take no `format` argument, so a suffix
# was a 500 (`/api/campaigns/1/stats.json`). Without the routes it is a 404; the
# format is chosen by the Accept header (or `?format=`).
router.include_format_suffixes = False
router.register("clients", views.ClientViewSet, basename="client")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("messages", views.MessageViewSet, basename="message")
router.register("stop-list", views.StopListViewSet, basename="stop-list")

urlpatterns = [
    path("stats/", views.OverallStatsView.as_view(), name="stats"),
    path("provider/", ProviderStateView.as_view(), name="provider"),
    path(
        "campaigns/<int:campaign_pk>/messages/",
        views.CampaignMessagesViewSet.as_view({"get": "list"}),
        name="campaign-messages",
    ),
    path("", include(router.urls)),
]
