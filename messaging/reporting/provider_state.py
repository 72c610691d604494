"""The sending provider's state in words: one description for every reader.

The engine keeps the provider's state in one shared row (ProviderState: the circuit
breaker, credentials refused, recent latency and error rate). /readyz, GET
/api/provider/, the dashboard, the daily report and /metrics all read it through
`provider_state()`, so the state has one wording wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


# A share of failed requests at or above this reads "unstable" (retries slow sending down);
# at or above CIRCUIT_FAILURE_RATIO, when the circuit breaker opens, "not accepting".
UNSTABLE_ERROR_RATE = 0.1

HEALTH_OK = "ok"
HEALTH_UNSTABLE = "unstable"
HEALTH_FAILING = "failing"
HEALTH_REFUSED = "refused"

HEALTH_WORDS = {
    HEALTH_OK: gettext_lazy("Provider: OK"),
    HEALTH_UNSTABLE: gettext_lazy("Provider: unstable"),
    HEALTH_FAILING: gettext_lazy("Provider: not accepting messages"),
    HEALTH_REFUSED: gettext_lazy("Provider: refuses Herald's access"),
}


@dataclass(frozen=True)
class Health:
    """The provider's health in one word, the sentence a marketer reads, and the technical
    detail (circuit, HTTP codes, setting names) a Manager may open."""

    level: str  # HEALTH_OK, HEALTH_UNSTABLE, HEALTH_FAILING, HEALTH_REFUSED
    text: str
    detail: str
    error_rate: float | None  # the share shown beside the word, the one the word is read from

    @property
    def word(self) -> str:
        return str(HEALTH_WORDS[self.level])

    @property
    def error_percent(self) -> str | None:
        if self.error_rate is None:
            return None
        # Written as the daily report writes a share (reports.as_percent), in whole percent.
        return _("%(percent)s%%") % {"percent": number_format(round(self.error_rate * 100), 0)}


def _clock(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def provider_health(state: ProviderState | None = None, *, now: datetime | None = None) -> Health:
    """The one rule that words the provider's health: the word always agrees with the error
    rate shown beside it (no "failing" at 0 %, no "OK" at 40 %)."""
    state = state or current()
    now = now or timezone.now()
    rate = state.error_rate
    if state.credentials_rejected:
        return Health(
            HEALTH_REFUSED,
            _(
                "The provider refuses Herald's access: nothing is sent until an administrator "
                "fixes the connection to the provider. Messages wait and are not lost."
            ),
            _(
                "The provider answers HTTP 401/403 to Herald's token: check PROVIDER_TOKEN. "
                "Sending resumes by itself when the token changes or a re-check succeeds. "
                "The provider said: %(detail)s"
            )
            % {"detail": state.credentials_detail or "—"},
            1.0,  # every request is refused
        )
    if state.circuit in (CircuitState.OPEN, CircuitState.HALF_OPEN):
        until = state.opened_until
        if state.circuit == CircuitState.OPEN and until and until > now:
            text = _("The provider is not accepting messages; next try at %(when)s.") % {
                "when": _clock(until)
            }
        else:
            text = _("The provider was not accepting messages; one message is testing it now.")
        detail = _(
            "Circuit breaker %(state)s (cool-down %(seconds)s s) after most recent requests "
            "failed. Last error: %(error)s"
        ) % {
            "state": CircuitState(state.circuit).label.lower(),
            "seconds": number_format(state.cooldown_seconds, decimal_pos=0),
            "error": state.last_error or "—",
        }
        # The breaker opened because most requests failed: the rate says at least that.
        shown = max(rate or 0.0, settings.CIRCUIT_FAILURE_RATIO)
        return Health(HEALTH_FAILING, text, detail, shown)
    if rate is None:
        return Health(HEALTH_OK, _("No messages were sent lately."), "", None)
    detail = _("Share of failed requests among the last %(n)s a sender made (CIRCUIT_WINDOW).") % {
        "n": settings.CIRCUIT_WINDOW
    }
    if rate >= settings.CIRCUIT_FAILURE_RATIO:
        return Health(
            HEALTH_FAILING,
            _("Most messages fail at the provider; sending pauses if it goes on."),
            detail,
            rate,
        )
    if rate >= UNSTABLE_ERROR_RATE:
        return Health(
            HEALTH_UNSTABLE,
            _("Some messages fail at the provider and are tried again: sending goes on, slower."),
            detail,
            rate,
        )
    return Health(HEALTH_OK, _("Sending normally."), detail, rate)
