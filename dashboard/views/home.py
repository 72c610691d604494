from __future__ import annotations

from django.views.decorators.http import require_safe

from dashboard import overview
from dashboard.access import readers
from dashboard.views import page_or_partial, polling

# The dashboard's live part (figures, running campaigns, chart and health), polled.
LIVE = "dashboard-live"


@readers
@require_safe
@polling.polled(polling.dashboard_stamp)
def home(request, *, stamp: str):
    context = {**overview.dashboard_overview(), "stamp": stamp}
    return page_or_partial(
        request, "dashboard/home.html", "dashboard/_home_live.html", context, target=LIVE
    )
