"""The SMS counting rule (messaging/campaigns/sms.py) and the maximum number of parts in the API and
form."""

from __future__ import annotations

import pytest

from messaging.campaigns.sms import GSM7, UCS2, measure, non_gsm_characters
from messaging.models import Campaign
from tests.support.sms_cases import BOUNDARY_CASES


@pytest.mark.fast
@pytest.mark.parametrize(
    ("name", "text", "encoding", "characters", "parts"),
    BOUNDARY_CASES,
    ids=[case[0] for case in BOUNDARY_CASES],
)
def test_parts_at_the_boundaries(name, text, encoding, characters, parts):
    info = measure(text)
    assert (info.encoding, info.characters, info.parts) == (encoding, characters, parts)


@pytest.mark.fast
def test_extension_characters_and_form_feed_count_double():
    for ch in "^{}\\[~]|€\f":
        assert measure(ch).units == 2, repr(ch)
        assert measure(ch).encoding == GSM7


@pytest.mark.fast
def test_any_character_outside_gsm7_makes_the_text_ucs2():
    assert measure("Hello").encoding == GSM7
    assert measure("Привет").encoding == UCS2
    assert measure("Hello ✓").encoding == UCS2
    # An emoji is two UTF-16 units, as a phone counts it.
    assert measure("🙂").units == 2


@pytest.mark.fast
def test_the_characters_forcing_ucs2_are_named_once_each():
    assert non_gsm_characters("“Hi” — “you”") == ["“", "”", "—"]
    assert non_gsm_characters("Plain {text} €") == []


@pytest.mark.fast
def test_empty_text_takes_no_part():
    assert measure("").parts == 0


@pytest.mark.fast
def test_remaining_in_the_last_part():
    assert measure("a" * 150).remaining == 10
    assert measure("a" * 170).remaining == 153 - 17


def campaign_body(text: str) -> dict:
    return {
        "text": text,
        "start_at": "2030-01-01T10:00:00+03:00",
        "end_at": "2030-01-02T10:00:00+03:00",
    }


def test_api_refuses_a_text_over_the_maximum_parts_with_a_clear_400(manager_api, settings):
    settings.SMS_MAX_PARTS = 2
    response = manager_api.post("/api/campaigns/", campaign_body("я" * 135), format="json")
    assert response.status_code == 400
    message = response.json()["text"][0]
    assert "3 SMS parts" in message and "at most 2" in message
    assert Campaign.objects.count() == 0

    response = manager_api.post("/api/campaigns/", campaign_body("я" * 134), format="json")
    assert response.status_code == 201, response.json()


def test_api_edit_over_the_maximum_is_refused_and_changes_nothing(manager_api, settings):
    settings.SMS_MAX_PARTS = 1
    created = manager_api.post("/api/campaigns/", campaign_body("Short"), format="json").json()
    response = manager_api.patch(
        f"/api/campaigns/{created['id']}/", {"text": "a" * 161}, format="json"
    )
    assert response.status_code == 400
    assert "text" in response.json()
    assert Campaign.objects.get().text == "Short"


def test_form_shows_the_parts_error_and_saves_nothing(as_manager, settings):
    settings.SMS_MAX_PARTS = 1
    response = as_manager.post(
        "/campaigns/new/",
        {
            "text": "я" * 71,
            "start_at": "2030-01-01T10:00",
            "end_at": "2030-01-02T10:00",
        },
    )
    assert response.status_code == 400
    assert "The text needs 2 SMS parts; at most 1 part is allowed" in response.content.decode()
    assert Campaign.objects.count() == 0


def test_form_counts_a_posted_line_break_once(as_manager, settings):
    """Browsers post CRLF; the saved text has LF, as the live counter counted it."""
    settings.SMS_MAX_PARTS = 1
    text = "a" * 80 + "\r\n" + "a" * 79  # 160 characters as typed
    response = as_manager.post(
        "/campaigns/new/",
        {"text": text, "start_at": "2030-01-01T10:00", "end_at": "2030-01-02T10:00"},
    )
    assert response.status_code == 302
    assert Campaign.objects.get().text == "a" * 80 + "\n" + "a" * 79


def test_form_page_renders_the_composer_counts(as_manager):
    response = as_manager.get("/campaigns/new/")
    html = response.content.decode()
    assert 'id="sms-composer"' in html
    assert 'id="sms-config"' in html
    assert "js/sms.js" in html
