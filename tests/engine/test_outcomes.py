"""Rule 5: what each provider answer means for the message."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from messaging.models import CampaignCounts, Message, MessageStatus, ProviderState
from messaging.provider import AsyncProviderClient, ProviderClient, Verdict, request_body
from tests.engine.conftest import make_clients, run_pump, running_campaign


def send_once(transport: str, url: str, token: str, *, message_id: int = 42, text: str = "Hi"):
    """One request through either transport: both share the one classification."""
    if transport == "requests":
        client = ProviderClient(url=url, token=token, connect_timeout=0.5)
        return client.send(message_id=message_id, phone="79161234567", text=text)
    client = AsyncProviderClient(url=url, token=token, connect_timeout=0.5).start()
    try:
        body = request_body(message_id, "79161234567", text)
        return client.submit(message_id=message_id, body=body, deadline=lambda: None).result()
    finally:
        client.close()


OK = json.dumps({"code": 0, "message": "OK"})


@pytest.mark.fast
@pytest.mark.parametrize(
    ("status", "body", "headers", "verdict", "outcome"),
    [
        (200, OK, {}, Verdict.SENT, "ok"),
        (200, '{"code": 5, "message": "busy"}', {}, Verdict.TRANSIENT, "bad_response"),
        (200, "<html>oops", {}, Verdict.TRANSIENT, "bad_response"),
        (200, '{"message": "OK"}', {}, Verdict.TRANSIENT, "bad_response"),
        (500, "boom", {}, Verdict.TRANSIENT, "http_error"),
        (503, "", {"Retry-After": "7"}, Verdict.TRANSIENT, "http_error"),
        (408, "", {}, Verdict.TRANSIENT, "http_error"),
        (429, "", {"Retry-After": "3"}, Verdict.TRANSIENT, "http_error"),
        (400, '{"error": "empty body"}', {}, Verdict.PERMANENT, "rejected"),
        (404, "no such route", {}, Verdict.PERMANENT, "rejected"),
        (401, "bad token", {}, Verdict.CREDENTIALS, "rejected"),
        (403, "forbidden", {}, Verdict.CREDENTIALS, "rejected"),
    ],
)
@pytest.mark.parametrize("transport", ["requests", "aiohttp"])
def test_each_provider_answer_is_classified(
    scripted, status, body, headers, verdict, outcome, transport
):
    scripted.respond(status, body, headers)
    result = send_once(transport, scripted.url, "secret-token")
    assert result.verdict is verdict
    assert result.outcome == outcome
    assert result.http_status == status
    if "Retry-After" in headers:
        assert result.retry_after == float(headers["Retry-After"])
    request = scripted.requests[0]
    assert request["path"] == "/v1/send/42"
    assert request["auth"] == "Bearer secret-token"
    assert request["body"] == {"id": 42, "phone": 79161234567, "text": "Hi"}
    assert "secret-token" not in result.reason + result.excerpt


@pytest.mark.fast
@pytest.mark.parametrize("transport", ["requests", "aiohttp"])
def test_connection_refused_is_transient(transport):
    result = send_once(transport, "http://127.0.0.1:9/v1", "t", message_id=1, text="x")
    assert result.verdict is Verdict.TRANSIENT
    assert result.outcome == "connection_error"


@pytest.mark.django_db
def test_200_with_code_0_is_sent(provider):
    make_clients(3)
    campaign = running_campaign()
    run_pump(provider.url)
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    message = Message.objects.first()
    assert message.attempts == 1 and message.sent_at is not None
    attempt = message.delivery_attempts.get()
    assert (attempt.outcome, attempt.http_status) == ("ok", 200)
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 3


@pytest.mark.django_db
def test_transient_failures_are_retried_with_backoff_until_sent(scripted, fast_retries):
    make_clients(1)
    running_campaign()
    scripted.respond(500, "down")
    scripted.respond(200, "garbage")
    scripted.respond(429, "", {"Retry-After": "0"})
    run_pump(scripted.url, token="test-provider-token")
    message = Message.objects.get()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 4
    outcomes = list(message.delivery_attempts.values_list("outcome", flat=True))
    assert outcomes == ["http_error", "bad_response", "http_error", "ok"]
    # The same msgId every time, so the provider can de-duplicate.
    assert {r["path"] for r in scripted.requests} == {f"/v1/send/{message.pk}"}


@pytest.mark.fast
def test_backoff_grows_exponentially_with_jitter(settings):
    import random

    from messaging.engine.outcomes import backoff_seconds

    settings.RETRY_BASE_SECONDS = 2
    settings.RETRY_MAX_SECONDS = 300
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (6, 64), (20, 300)]:
        waits = {backoff_seconds(attempt, rng=rng) for _ in range(20)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jitter


@pytest.mark.django_db
def test_retry_after_is_honoured(scripted):
    make_clients(1)
    running_campaign()
    scripted.respond(429, "", {"Retry-After": "120"})
    before = timezone.now()
    run_pump(scripted.url, token="test-provider-token", budget=1)
    message = Message.objects.get()
    assert message.status == MessageStatus.PENDING
    assert (message.next_attempt_at - before).total_seconds() >= 120
    assert "429" in message.last_error


@pytest.mark.django_db
def test_other_4xx_fails_the_message_at_once_with_the_reason(scripted):
    make_clients(1)
    campaign = running_campaign()
    scripted.respond(404, "no such route")
    run_pump(scripted.url, token="test-provider-token")
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED
    assert "404" in message.last_error and "no such route" in message.last_error
    assert len(scripted.requests) == 1
    assert CampaignCounts.objects.get(pk=campaign.pk).failed == 1


@pytest.mark.django_db
def test_credentials_rejected_stops_all_sending_and_keeps_messages_pending(provider):
    make_clients(30)
    campaign = running_campaign()
    run_pump(provider.url, token="wrong-token", budget=1.5, concurrency=4)
    state = ProviderState.get()
    assert state.credentials_rejected
    assert "401" in state.credentials_detail
    # Only the first requests in flight went out; the rest were held.
    assert provider.stats()["total"] <= 4
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert counts.pending == 30 and counts.sent == 0 and counts.failed == 0

    from messaging.reporting.provider_state import provider_state

    assert provider_state()["sending"] == "stopped"

    # Fixing the token (a different one) lets sending resume by itself.
    run_pump(provider.url)
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 30
    assert not ProviderState.get().credentials_rejected


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJoZXJhbGQifQ.c2lnbmF0dXJlLXBhcnQ"


@pytest.mark.django_db
def test_a_provider_that_echoes_the_token_never_gets_it_stored_or_shown(scripted, viewer_api):
    """The token (and anything bearer-like) is scrubbed before an answer is kept."""
    make_clients(1)
    running_campaign()
    echo = json.dumps(
        {"error": "bad request", "headers": {"Authorization": f"Bearer {JWT}"}, "token": JWT}
    )
    scripted.respond(400, echo)
    run_pump(scripted.url, token=JWT)
    assert scripted.requests[0]["auth"] == f"Bearer {JWT}"  # it was sent...
    message = Message.objects.get()
    attempt = message.delivery_attempts.get()
    assert message.status == MessageStatus.FAILED
    stored = message.last_error + attempt.response_excerpt
    assert "bad request" in stored  # the useful part is kept
    assert JWT not in stored and "eyJ" not in stored  # ...but never kept
    shown = viewer_api.get(f"/api/messages/{message.pk}/").content.decode()
    assert "eyJ" not in shown
