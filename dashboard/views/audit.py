"""The audit trail for Managers: sign-ins, failures, lockouts, token changes."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render

from dashboard.access import managers
from security.models import AuditEvent, AuditKind


@managers
def audit_log(request):
    kind = request.GET.get("kind", "")
    events = AuditEvent.objects.all()
    if kind in AuditKind.values:
        events = events.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(events, settings.UI_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/audit.html",
        {"page": page, "kind": kind, "kinds": AuditKind.choices},
    )
