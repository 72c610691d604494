"""The sending provider's state in words: one description for every reader.

The engine keeps the provider's state in one shared row (ProviderState: the circuit
breaker, credentials refused, recent latency and error rate). /readyz, GET
/api/provider/, the dashboard, the daily report and /metrics all read it through
`provider_state()`, so the state has one wording wherever it is shown.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from messaging.models import CircuitState, ProviderState

SENDING_NORMAL = "normal"
SENDING_HELD = "held"  # circuit breaker open or probing: the provider looks down
SENDING_STOPPED = "stopped"  # the provider refuses Herald's credentials (401/403)


def current() -> ProviderState:
    """The shared row, read-only: a missing row (nothing sent yet) reads as the defaults."""
    return ProviderState.objects.filter(pk=1).first() or ProviderState()


def provider_state(state: ProviderState | None = None) -> dict:
    """Whether Herald can send, in a word (`sending`) and a sentence (`summary`), with the
    figures the engine keeps. Pass `state` when the caller already read the row."""
    state = state or current()
    if state.credentials_rejected:
        sending = SENDING_STOPPED
        summary = _(
            "The provider rejects Herald's credentials (401/403): sending is stopped "
            "until PROVIDER_TOKEN is fixed."
        )
    elif state.circuit in (CircuitState.OPEN, CircuitState.HALF_OPEN):
        sending = SENDING_HELD
        summary = _(
            "The provider looks down: the circuit breaker is %(state)s and sending is held."
        ) % {"state": CircuitState(state.circuit).label.lower()}
    else:
        sending, summary = SENDING_NORMAL, _("Sending normally")
    return {
        "sending": sending,
        "summary": summary,
        "circuit": state.circuit,
        "opened_until": state.opened_until,
        "cooldown_seconds": state.cooldown_seconds,
        "credentials_rejected": state.credentials_rejected,
        "credentials_detail": state.credentials_detail,
        "last_error": state.last_error,
        "latency_ms": state.latency_ms,
        "error_rate": state.error_rate,
        "updated_at": state.updated_at,
    }
