"""Endpoints for machines: liveness, readiness and Prometheus metrics.

/healthz and /readyz answer without sign-in (probes cannot sign in). Who may read
/metrics: security/metrics_access.py.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from messaging.reporting import metrics, readiness
from messaging.reporting.provider_state import SENDING_NORMAL
from security.metrics_access import refusal as metrics_refusal


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: database reachable, migrations applied, a worker seen recently.

    The provider's state (credentials refused, circuit open) is in the body and, when
    sending is not normal, in `warnings`; it never makes the answer 503.

    `?worker=0` leaves out the worker check, for the web pods' readiness probe: a
    stopped worker must not take the web UI out of the load balancer.
    """
    check_worker = request.GET.get("worker", "1") not in ("0", "false", "no")
    ready, checks = readiness.readiness(check_worker=check_worker)
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    if not ready:
        body["reasons"] = [check["reason"] for check in checks.values() if not check["ok"]]
    if checks["database"]["ok"]:
        # Reported, never a reason to be unready: a refusing or failing provider must
        # not take the web pods out of the load balancer (the UI and API still work).
        provider = readiness.public_provider_state()
        if provider is not None:
            body["provider"] = provider
            if provider["sending"] != SENDING_NORMAL:
                body["warnings"] = [provider["summary"]]
    response = JsonResponse(body, status=200 if ready else 503)
    # A probe asking every few seconds is not a server error: keep django.request's
    # "Service Unavailable" ERROR line out of the logs (the reasons are in the body).
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own flag
    return response


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    refused = metrics_refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)


# --- Error pages: JSON under /api/, the site's pages elsewhere -----------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": gettext("Server error; it was logged.")}, status=500)
    return defaults.server_error(request)
