from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from messaging import stats


@login_required
def home(request):
    return render(request, "dashboard/home.html", {"stats": stats.overall_stats()})
