"""The provider's health word agrees with the error rate shown beside it: one rule
(provider_state.provider_health), checked with the local provider failing 0 %, 40 % and
100 % of requests while a sender sends."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from messaging.engine import sender as sender_module
from messaging.models import ProviderState
from messaging.reporting.provider_state import provider_health
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def health_every_tick(monkeypatch):
    # The sender writes the health it sees every few seconds; here at every tick.
    monkeypatch.setattr(sender_module, "RECLAIM_EVERY_SECONDS", 0.0)


@pytest.mark.parametrize(
    ("errors", "level", "word", "lowest", "highest"),
    [
        (0.0, "ok", "Provider: OK", 0, 0),
        (0.4, "unstable", "Provider: unstable", 10, 75),
        (1.0, "failing", "Provider: not accepting messages", 100, 100),
    ],
)
def test_the_health_word_agrees_with_the_error_rate(
    provider,
    settings,
    fast_retries,
    health_every_tick,
    as_viewer,
    errors,
    level,
    word,
    lowest,
    highest,
):
    settings.CIRCUIT_WINDOW = 20
    # At 40 % a window of 20 reaches the default 60 % now and then by chance and trips the
    # breaker (it should: most of them failed); 0.8 keeps this run on the unstable side.
    settings.CIRCUIT_FAILURE_RATIO = 0.8
    settings.CIRCUIT_COOLDOWN_SECONDS = 60
    provider.configure(error_rate=errors)
    make_clients(60)
    running_campaign()
    run_pump(provider.url, budget=3, concurrency=8)

    health = provider_health(ProviderState.get())
    assert health.level == level
    percent = round(health.error_rate * 100)
    assert lowest <= percent <= highest, percent
    html = unescape(as_viewer.get(reverse("dashboard:home")).content.decode())
    assert word in html
    assert f'data-health="error-rate">{percent}%' in html
