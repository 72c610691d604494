"""Engine fixtures: the local provider over real HTTP, campaigns ready to send, a pump runner."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.engine import lifecycle
from messaging.engine.sender import Sender
from messaging.models import Campaign, Client
from messaging.provider import AsyncProviderClient, ProviderClient, ProviderResult
from tests.support.scripted_provider import ScriptedProvider

TOKEN = "test-provider-token"


@pytest.fixture(scope="session")
def local_provider():
    from localprovider import LocalProvider

    server = LocalProvider(token=TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def provider(local_provider):
    """The local provider with no faults and no receipts."""
    local_provider.configure(
        latency_ms=0,
        latency_jitter_ms=0,
        error_rate=0.0,
        garbage_rate=0.0,
        hang_rate=0.0,
        rate_429=0.0,
        outage=False,
        token=TOKEN,
        check_token=True,
    )
    local_provider.reset()
    return local_provider


@pytest.fixture
def scripted():
    with ScriptedProvider() as server:
        yield server


@pytest.fixture
def fast_retries(settings):
    settings.RETRY_BASE_SECONDS = 0.05
    settings.RETRY_MAX_SECONDS = 0.2
    return settings


def make_clients(count: int, *, prefix: str = "7916", tz: str = "Europe/Moscow", tag: str = ""):
    clients = [
        Client(phone=f"{prefix}{i:07d}", operator_code=prefix[1:4], tag=tag, timezone=tz)
        for i in range(count)
    ]
    Client.objects.bulk_create(clients)
    return list(Client.objects.filter(phone__startswith=prefix).order_by("id"))


def running_campaign(*, length=timedelta(hours=1), start_now=True, **values) -> Campaign:
    """A campaign whose window contains now, with its targets selected (the create's own
    step selects them); with `start_now=False`, due but not started yet (as before the
    worker's clock looks)."""
    now = timezone.now()
    values.setdefault("text", "Hello from Herald")
    values.setdefault("start_at", now - timedelta(seconds=1))
    values.setdefault("end_at", now + length)
    if not start_now:
        # Created for later (so the create does not start it), then made due.
        times = {"start_at": values["start_at"], "end_at": values["end_at"]}
        later = now + timedelta(days=1)
        campaign = services.create_campaign(
            values={**values, "start_at": later, "end_at": later + length}
        )
        Campaign.objects.filter(pk=campaign.pk).update(**times)
        campaign.refresh_from_db()
        return campaign
    campaign = services.create_campaign(values=values)
    if start_now:
        lifecycle.start_campaign(campaign.pk, timezone.now())
        campaign.refresh_from_db()
    return campaign


def make_sender(url: str, *, token: str = TOKEN, concurrency: int = 8, **kw) -> Sender:
    client = AsyncProviderClient(
        url=url,
        token=token,
        read_timeout=kw.pop("read_timeout", 5),
        max_connections=concurrency * 2,
    )
    return Sender(token=uuid.uuid4(), client=client, concurrency=concurrency, **kw)


def run_pump(url: str, *, budget: float = 30, **kw):
    """Run one sender against `url` until it has nothing left to do, then the lifecycle's
    step (which the worker's clock runs every half second beside the senders: it expires
    what is past its end and finishes what has nothing left)."""
    sender = make_sender(url, budget_seconds=budget, **kw)
    reason = sender.run()
    lifecycle.step(sender.clock())
    return reason, sender


def send_now(url: str, job, *, token: str = TOKEN) -> ProviderResult:
    """Make a job's request at once, blocking (a slow worker's request finishing late)."""
    return ProviderClient(url=url, token=token).send(
        message_id=job.message_id, phone=job.phone, text=job.text
    )
