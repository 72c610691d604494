from django.urls import include, path
from rest_framework.routers import DefaultRouter

from messaging.api import views
from messaging.api.provider import ProviderStateView

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.register("clients", views.ClientViewSet, basename="client")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("messages", views.MessageViewSet, basename="message")

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
