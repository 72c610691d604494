"""A sender that has recorded its last results nudges the worker's clock, which then
steps at once instead of at its next half second (engine/nudge.py)."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from messaging.engine import clock, nudge
from messaging.models import CampaignStatus
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def installed(monkeypatch):
    """The shared counter as `manage.py qcluster` installs it before it forks."""
    monkeypatch.setattr(nudge, "_counter", multiprocessing.get_context("fork").RawValue("L", 0))


def test_a_sender_nudges_the_clock_when_its_last_results_are_recorded(provider, installed):
    make_clients(5)
    campaign = running_campaign()
    before = nudge.seen()
    run_pump(provider.url)
    assert nudge.seen() != before
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED


def test_a_nudge_from_another_process_cuts_the_clock_s_wait_short(installed):
    stop = threading.Event()
    waiter = threading.Thread(target=clock.wait_or_nudge, args=(stop, 120, nudge.seen()))
    waiter.start()
    sender = multiprocessing.get_context("fork").Process(target=nudge.nudge)
    sender.start()
    sender.join(30)
    waiter.join(30)  # far less than the 120 s it would sleep without the nudge
    alive = waiter.is_alive()
    stop.set()
    assert not alive


def test_a_nudge_before_the_wait_is_not_lost(installed):
    """One that came while the clock was stepping makes it step again at once."""
    nudged = nudge.seen()
    nudge.nudge()
    waiter = threading.Thread(target=clock.wait_or_nudge, args=(threading.Event(), 120, nudged))
    waiter.start()
    waiter.join(30)
    assert not waiter.is_alive()


def test_outside_a_cluster_a_nudge_does_nothing(monkeypatch):
    """Tests and `runlocal`'s one process install no counter: a sender still runs."""
    monkeypatch.setattr(nudge, "_counter", None)
    nudge.nudge()
    assert nudge.seen() == 0
