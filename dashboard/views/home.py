from __future__ import annotations

from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard import figures
from dashboard.access import readers
from dashboard.views import page_or_partial, polling

# The dashboard's live part (figures, running campaigns, chart and health), polled.
LIVE = "dashboard-live"


@readers
@require_safe
@vary_on_headers("HX-Request", "HX-Target")
def home(request):
    stamp = polling.dashboard_stamp()
    if polling.unchanged(request, stamp):
        return polling.nothing_changed()
    context = {**figures.dashboard_figures(), "stamp": stamp}
    return page_or_partial(
        request, "dashboard/home.html", "dashboard/_home_live.html", context, target=LIVE
    )
