"""Send a test: one message to one phone through the provider (over real HTTP), recorded apart."""

from __future__ import annotations

import logging

import pytest

from messaging.models import TEST_SEND_ID_BASE, CampaignCounts, Message, SendBucket, TestSend
from tests.conftest import make_campaign
from tests.engine.conftest import TOKEN, local_provider, provider  # noqa: F401 (fixtures)

URL = "/campaigns/test-send/"


@pytest.fixture
def to_local_provider(settings, provider):  # noqa: F811
    settings.PROVIDER_URL = provider.url
    settings.PROVIDER_TOKEN = TOKEN
    return provider


def test_a_test_send_reaches_the_provider_with_its_own_msg_id(
    as_manager, manager, to_local_provider
):
    campaign = make_campaign(text="Hello")
    response = as_manager.post(
        f"{URL}?campaign={campaign.pk}",
        {"text": "Black Friday: -30%", "test_phone": "79161234567"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="test-send-result",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Test sent to +7 (916) 123-45-67: the provider accepted it." in html

    record = TestSend.objects.get()
    assert (record.user, record.campaign, record.phone) == (manager, campaign, "79161234567")
    assert record.sent and record.outcome == "ok" and record.http_status == 200
    assert record.message_id == TEST_SEND_ID_BASE + record.pk
    receipt = to_local_provider.receipt(record.message_id)
    assert receipt["phone"] == 79161234567
    assert receipt["text"] == "Black Friday: -30%"
    # Never part of the campaign's figures.
    assert Message.objects.count() == 0
    assert CampaignCounts.objects.get(campaign=campaign).total == 0
    assert SendBucket.objects.count() == 0


def test_a_refused_test_send_shows_the_reason_in_plain_words(
    as_manager, to_local_provider, settings
):
    settings.PROVIDER_TOKEN = "wrong-token"
    response = as_manager.post(
        URL,
        {"text": "Hi", "test_phone": "79161234567"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="test-send-result",
    )
    html = response.content.decode()
    assert "The test to +7 (916) 123-45-67 was not sent." in html
    assert "The provider refused Herald&#x27;s credentials." in html
    record = TestSend.objects.get()
    assert not record.sent and record.http_status == 401
    assert to_local_provider.receipts()["unique"] == 0


def test_a_test_send_is_logged(as_manager, to_local_provider, caplog):
    with caplog.at_level(logging.INFO, logger="messaging.engine.testsend"):
        as_manager.post(URL, {"text": "Hi", "test_phone": "79161234567"})
    record = TestSend.objects.get()
    line = next(r.getMessage() for r in caplog.records if "test send" in r.getMessage())
    assert f"test_send_id={record.pk}" in line
    assert f"msg_id={record.message_id}" in line
    assert "outcome=ok" in line


def test_bad_phone_or_empty_text_sends_nothing(as_manager, to_local_provider):
    response = as_manager.post(URL, {"text": "Hi", "test_phone": "8916"})
    assert response.status_code == 400
    assert "Phone must be 11 digits" in response.content.decode()
    response = as_manager.post(URL, {"text": " ", "test_phone": "79161234567"})
    assert response.status_code == 400
    assert "Write the text first." in response.content.decode()
    response = as_manager.post(URL, {"text": "a\x00b", "test_phone": "79161234567"})
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert TestSend.objects.count() == 0
    assert to_local_provider.receipts()["total"] == 0


def test_viewers_cannot_send_a_test(as_viewer, to_local_provider):
    response = as_viewer.post(URL, {"text": "Hi", "test_phone": "79161234567"})
    assert response.status_code == 403
    assert TestSend.objects.count() == 0


def test_the_campaign_page_lists_its_recent_tests_and_its_sms_size(as_manager, to_local_provider):
    campaign = make_campaign(text="Привет")
    as_manager.post(f"{URL}?campaign={campaign.pk}", {"text": "Hi", "test_phone": "79161234567"})
    html = as_manager.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Recent test sends" in html
    assert "manager → +7 (916) 123-45-67: accepted by the provider" in html
    assert "UCS-2 · 1 SMS part · 6 characters" in html


def test_an_odd_campaign_parameter_is_ignored_not_a_500(as_manager, to_local_provider):
    response = as_manager.post(f"{URL}?campaign=²", {"text": "Hi", "test_phone": "79161234567"})
    assert response.status_code == 200
    assert TestSend.objects.get().campaign is None


def test_a_phone_typed_any_common_way_is_normalised(as_manager, to_local_provider):
    response = as_manager.post(URL, {"text": "Hi", "test_phone": "8 (916) 123-45-67"})
    assert response.status_code == 200
    record = TestSend.objects.get()
    assert record.phone == "79161234567"
    assert to_local_provider.receipt(record.message_id)["phone"] == 79161234567
