from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard import figures
from dashboard.access import readers


@readers
@require_safe
def home(request):
    context = figures.dashboard_figures()
    return render(request, "dashboard/home.html", context)


@readers
@require_safe
@vary_on_headers("HX-Request")
def home_live(request):
    """The dashboard's live part: figures, running campaigns, chart and health (polled)."""
    context = figures.dashboard_figures()
    return render(request, "dashboard/_home_live.html", context)
