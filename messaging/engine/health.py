"""The provider as the dashboard, the metrics and the logs describe it."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.models import CircuitState, ProviderState


def provider_health() -> dict:
    state = ProviderState.get()
    now = timezone.now()
    if state.credentials_rejected:
        detail = _("Credentials refused by the provider: %(detail)s") % {
            "detail": state.credentials_detail
        }
    elif state.circuit == CircuitState.OPEN:
        wait = max(0, int(((state.opened_until or now) - now).total_seconds()))
        detail = _("Provider failing; sending held, next probe in %(wait)ss (%(error)s)") % {
            "wait": wait,
            "error": state.last_error,
        }
    elif state.circuit == CircuitState.HALF_OPEN:
        detail = _("Probing the provider with one request")
    else:
        detail = _("Sending normally")
    return {
        "state": state.circuit,
        "credentials_rejected": state.credentials_rejected,
        "latency_ms": state.latency_ms,
        "error_rate": state.error_rate,
        "opened_until": state.opened_until,
        "last_error": state.last_error,
        "detail": detail,
    }
