"""A client's personal fields: a name and custom fields, edited in the API and the forms."""

from __future__ import annotations

import pytest

from messaging.models import Client
from tests.conftest import make_client

pytestmark = pytest.mark.django_db

URL = "/api/clients/"


def test_the_api_creates_and_answers_a_name_and_custom_fields(manager_api):
    response = manager_api.post(
        URL,
        {
            "phone": "79161234567",
            "name": "Анна",
            "attributes": {"city": " Казань ", "дата_рождения": "05.03", "empty": ""},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Анна"
    # Values are trimmed; an empty one is no field.
    assert body["attributes"] == {"city": "Казань", "дата_рождения": "05.03"}
    client = Client.objects.get()
    assert client.attributes == {"city": "Казань", "дата_рождения": "05.03"}


def test_a_patch_of_attributes_replaces_them(manager_api):
    client = make_client("79161234567")
    client.attributes = {"city": "Казань", "card": "Gold"}
    client.save()
    response = manager_api.patch(
        f"{URL}{client.pk}/", {"attributes": {"card": "Silver"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    client.refresh_from_db()
    assert client.attributes == {"card": "Silver"}


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"2city": "x"}, "2city is not a field name"),
        ({"city name": "x"}, "city name is not a field name"),
        ({"name": "x"}, "name is a client's own field"),
        ({"city": "x" * 201}, "Field city must be at most 200 characters."),
        ({"city": 5}, "Field city must be text."),
        ({f"f{i}": "x" for i in range(21)}, "at most 20 custom fields"),
        ({"a" * 41: "x"}, "longer than 40 characters"),
        (["city"], "must be an object"),
        ({"city": "a\x00b"}, "Null characters are not allowed."),
    ],
)
def test_bad_custom_fields_are_a_400_naming_what_is_wrong(manager_api, attributes, message):
    response = manager_api.post(
        URL, {"phone": "79161234567", "attributes": attributes}, format="json"
    )
    assert response.status_code == 400
    assert any(message in m for m in response.json()["attributes"]), response.json()
    assert Client.objects.count() == 0


def test_the_form_edits_the_name_and_custom_fields_one_per_line(as_manager):
    response = as_manager.post(
        "/clients/new/",
        {
            "phone": "79161234567",
            "name": "Олег",
            "timezone": "Europe/Moscow",
            "custom_fields": "city: Казань\r\n\r\nкарта : Gold: plus\r\n",
        },
    )
    assert response.status_code == 302
    client = Client.objects.get()
    assert (client.name, client.attributes) == ("Олег", {"city": "Казань", "карта": "Gold: plus"})
    edit = as_manager.get(f"/clients/{client.pk}/edit/").content.decode()
    assert "city: Казань\nкарта: Gold: plus</textarea>" in edit


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just text", "Line 1: write the field as name: text."),
        ("tag: x", "tag is a client&#x27;s own field"),
        ("город-1: x", "город-1 is not a field name"),
    ],
)
def test_the_form_refuses_bad_custom_fields(as_manager, text, message):
    response = as_manager.post(
        "/clients/new/", {"phone": "79161234567", "timezone": "UTC", "custom_fields": text}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Client.objects.count() == 0


def test_the_client_page_shows_the_name_and_custom_fields(as_viewer):
    client = make_client("79161234567")
    client.name = "Анна <b>"
    client.attributes = {"city": "Казань"}
    client.save()
    html = as_viewer.get(f"/clients/{client.pk}/").content.decode()
    assert 'id="client-name">Анна &lt;b&gt;</dd>' in html
    assert "<code>{city}</code>" in html and "Казань" in html
    assert "+7 (916) 123-45-67" in html
