"""Merge tags: each client gets its own text, and that text is what the message stores.

Against the local provider over HTTP: its receipts hold the text of each request.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from messaging.models import Message
from tests.engine.conftest import make_clients, run_pump, running_campaign

pytestmark = pytest.mark.django_db


def test_each_client_is_sent_its_own_text(provider, manager_api, as_manager):
    anna, nameless, boris = make_clients(3)
    anna.name, anna.attributes = "Анна", {"city": "Казань"}
    anna.save()  # the form's and the API's way: {city} becomes a known field
    boris.name = "Boris"
    boris.save()
    campaign = running_campaign(text="Здравствуйте, {name|клиент}! Город: {city|ваш город}.")

    run_pump(provider.url)

    received = {str(r["phone"]): r["text"] for r in provider.receipts()["receipts"].values()}
    assert received == {
        anna.phone: "Здравствуйте, Анна! Город: Казань.",
        nameless.phone: "Здравствуйте, клиент! Город: ваш город.",
        boris.phone: "Здравствуйте, Boris! Город: ваш город.",
    }
    # The message keeps the text actually sent, and the API shows it.
    for message in Message.objects.filter(campaign=campaign):
        assert message.text == received[message.phone]
        shown = manager_api.get(f"/api/messages/{message.pk}/").json()
        assert shown["text"] == received[message.phone]
        page = as_manager.get(reverse("dashboard:message-detail", args=[message.pk]))
        assert f'id="message-text">{received[message.phone]}<' in page.content.decode()


def test_a_text_without_tags_is_stored_as_it_is(provider):
    make_clients(2)
    campaign = running_campaign(text="Hello {not a tag} and {1}")
    run_pump(provider.url)
    texts = {r["text"] for r in provider.receipts()["receipts"].values()}
    assert texts == {"Hello {not a tag} and {1}"}
    assert set(campaign.messages.values_list("text", flat=True)) == texts


def test_an_edit_of_the_text_reaches_the_messages_claimed_after_it(provider):
    from messaging import services

    make_clients(1)
    campaign = running_campaign(text="Hi {name|friend}")
    services.update_campaign(campaign=campaign, values={"text": "Bye {name|friend}"})
    run_pump(provider.url)
    assert [r["text"] for r in provider.receipts()["receipts"].values()] == ["Bye friend"]
    assert campaign.messages.get().text == "Bye friend"
