"""Plain words for provider outcomes and message states, in tables, the timeline and progress."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.models import AttemptOutcome, Campaign, DeliveryAttempt, Message
from messaging.models.counters import move_messages
from messaging.reporting.wording import describe_message, describe_outcome
from tests.engine.conftest import make_clients, running_campaign

NOW = datetime(2030, 3, 4, 14, 30, tzinfo=UTC)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("outcome", "status", "reason", "words"),
    [
        (AttemptOutcome.OK, 200, "", "Accepted by the provider."),
        (AttemptOutcome.TIMEOUT, None, "Timed out: ReadTimeout", "No answer within 10 s."),
        (AttemptOutcome.CONNECTION_ERROR, None, "", "Could not reach the provider."),
        (AttemptOutcome.HTTP_ERROR, 503, "HTTP 503", "The provider had an error (HTTP 503)."),
        (
            AttemptOutcome.HTTP_ERROR,
            429,
            "HTTP 429",
            "The provider asked Herald to slow down (too many requests).",
        ),
        (
            AttemptOutcome.BAD_RESPONSE,
            200,
            "Provider answered code 5",
            "The provider did not confirm the message (it answered code 5).",
        ),
        (
            AttemptOutcome.BAD_RESPONSE,
            200,
            "200 with a body that is not JSON",
            "The provider's answer could not be read.",
        ),
        (
            AttemptOutcome.REJECTED,
            401,
            "HTTP 401: ...",
            "The provider refused Herald's credentials.",
        ),
        (
            AttemptOutcome.REJECTED,
            404,
            "HTTP 404",
            "The provider refused this number (HTTP 404).",
        ),
    ],
)
def test_every_outcome_has_plain_words(outcome, status, reason, words, settings):
    settings.PROVIDER_READ_TIMEOUT = 10
    assert describe_outcome(outcome, status, reason=reason) == words


@pytest.mark.fast
def test_a_timed_out_pending_message_says_when_it_retries():
    with timezone.override("UTC"):
        words = describe_message(
            status="pending",
            attempts=1,
            next_attempt_at=NOW + timedelta(minutes=2),
            last_error="Timed out: ReadTimeout",
            last_outcome=AttemptOutcome.TIMEOUT,
            last_duration_ms=10_000,
            now=NOW,
        )
    assert words == "No answer within 10 s. Will retry at 14:32."


@pytest.mark.fast
def test_expired_and_cancelled_messages_say_why():
    assert describe_message(
        status="expired",
        attempts=0,
        next_attempt_at=None,
        last_error="Deadline passed before the message could be sent",
    ) == ("Not sent before the campaign's end.")
    assert (
        describe_message(
            status="cancelled", attempts=0, next_attempt_at=None, last_error="Campaign cancelled"
        )
        == "Cancelled with the campaign."
    )


@pytest.mark.django_db
def test_tables_and_the_timeline_show_plain_words_with_the_raw_answer_one_click_away(
    as_viewer,
):
    make_clients(2)
    campaign = running_campaign()
    refused, retrying = Message.objects.filter(campaign=campaign).order_by("id")
    now = timezone.now()
    DeliveryAttempt.objects.create(
        message=refused,
        started_at=now,
        http_status=404,
        outcome=AttemptOutcome.REJECTED,
        response_excerpt='{"message": "no such subscriber"}',
    )
    move_messages(
        Message.objects.filter(pk=refused.pk),
        ["pending"],
        "failed",
        attempts=1,
        last_error='HTTP 404: {"message": "no such subscriber"}',
    )
    DeliveryAttempt.objects.create(
        message=retrying, started_at=now, duration_ms=10_000, outcome=AttemptOutcome.TIMEOUT
    )
    retry_at = now + timedelta(minutes=3)
    Message.objects.filter(pk=retrying.pk).update(
        attempts=1, next_attempt_at=retry_at, last_error="Timed out: ReadTimeout"
    )

    html = as_viewer.get(reverse("dashboard:campaign-detail", args=[campaign.pk])).content.decode()
    assert "The provider refused this number (HTTP 404)." in html
    assert "{#" not in html and "#}" not in html  # no template comment leaks into the page
    assert "<details" in html and "no such subscriber" in html
    clock = timezone.localtime(retry_at).strftime("%H:%M")
    assert f"No answer within 10 s. Will retry at {clock}." in html
    assert re.search(r"<th[^>]*>\s*Reason\s*</th>", html)

    html = as_viewer.get(reverse("dashboard:message-detail", args=[retrying.pk])).content.decode()
    assert f"No answer within 10 s. Will retry at {clock}." in html
    assert "Raw answer" in html


@pytest.mark.django_db
def test_a_cancelled_campaign_says_what_became_of_its_messages(as_viewer):
    make_clients(70)
    campaign = running_campaign(name="Spring")
    sent = Message.objects.filter(campaign=campaign).order_by("id")[:19]
    move_messages(
        Message.objects.filter(pk__in=list(sent.values_list("pk", flat=True))), ["pending"], "sent"
    )
    services.cancel_campaign(campaign=Campaign.objects.get(pk=campaign.pk))
    for url in (
        reverse("dashboard:campaign-detail", args=[campaign.pk]),
        reverse("dashboard:campaign-list"),
    ):
        html = as_viewer.get(url).content.decode()
        assert "19 sent, 51 cancelled" in html
        assert "70 of 70 done" not in html


@pytest.mark.fast
def test_a_message_waiting_for_its_window_says_when_it_goes_out():
    with timezone.override("UTC"):
        words = describe_message(
            status="pending", attempts=0, next_attempt_at=NOW + timedelta(hours=2), now=NOW
        )
    assert words == "Waiting for the client's send window; goes out at 16:30."
