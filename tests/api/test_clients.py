from __future__ import annotations

import pytest

from messaging.models import CampaignCounts, Client, Message, MessageStatus
from messaging.models.counters import add_pending, move_messages, recount
from tests.conftest import make_campaign, make_client

pytestmark = pytest.mark.django_db

URL = "/api/clients/"


def test_create_client_defaults_operator_code_from_phone(manager_api):
    response = manager_api.post(URL, {"phone": "79161234567", "timezone": "Europe/Moscow"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["operator_code"] == "916"
    assert body["tag"] == ""
    assert Client.objects.get().operator_code == "916"


def test_create_client_keeps_given_operator_code(manager_api):
    response = manager_api.post(
        URL,
        {"phone": "79161234567", "operator_code": "999", "tag": "vip", "timezone": "Asia/Tokyo"},
    )
    assert response.status_code == 201
    assert response.json()["operator_code"] == "999"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone": "19161234567", "timezone": "Europe/Moscow"}, "phone"),
        ({"phone": "7916123456", "timezone": "Europe/Moscow"}, "phone"),
        ({"phone": "7916123456a", "timezone": "Europe/Moscow"}, "phone"),
        (
            {"phone": "79161234567", "operator_code": "91", "timezone": "Europe/Moscow"},
            "operator_code",
        ),
        ({"phone": "79161234567", "operator_code": "9a6", "timezone": "UTC"}, "operator_code"),
        ({"phone": "79161234567", "timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "Europe/Moscow"}, "phone"),
        ({"phone": "79161234567", "tag": "x" * 101, "timezone": "UTC"}, "tag"),
    ],
)
def test_invalid_client_is_rejected_with_field_message_and_nothing_saved(
    manager_api, payload, field
):
    response = manager_api.post(URL, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()[field][0]
    assert Client.objects.count() == 0


def test_duplicate_phone_is_rejected(manager_api):
    make_client("79161234567")
    response = manager_api.post(URL, {"phone": "79161234567", "timezone": "UTC"})
    assert response.status_code == 400
    assert "phone" in response.json()
    assert Client.objects.count() == 1


def test_update_with_bad_timezone_changes_nothing(manager_api):
    client = make_client("79161234567", tag="a")
    response = manager_api.patch(f"{URL}{client.pk}/", {"timezone": "Nowhere/City", "tag": "b"})
    assert response.status_code == 400
    client.refresh_from_db()
    assert (client.tag, client.timezone) == ("a", "Europe/Moscow")


def test_update_client(manager_api):
    client = make_client("79161234567")
    response = manager_api.put(
        f"{URL}{client.pk}/", {"phone": "79261234567", "tag": "new", "timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 200, response.json()
    client.refresh_from_db()
    assert (client.phone, client.tag, client.timezone) == ("79261234567", "new", "Asia/Tokyo")


def test_list_filters_and_search(viewer_api):
    make_client("79161111111", tag="vip", tz="Europe/Moscow")
    make_client("79262222222", tag="vip", tz="Asia/Tokyo")
    make_client("79263333333", tag="new", tz="Asia/Tokyo")

    def phones(query):
        response = viewer_api.get(URL, query)
        assert response.status_code == 200
        return sorted(c["phone"] for c in response.json()["results"])

    assert phones({"operator_code": "926"}) == ["79262222222", "79263333333"]
    assert phones({"tag": "vip"}) == ["79161111111", "79262222222"]
    assert phones({"timezone": "Asia/Tokyo", "tag": "new"}) == ["79263333333"]
    assert phones({"search": "7926"}) == ["79262222222", "79263333333"]
    assert phones({"search": "ne"}) == ["79263333333"]
    assert phones({"search": "79262222222"}) == ["79262222222"]
    assert phones({"search": "7929"}) == []
    assert viewer_api.get(URL).json()["count"] == 3


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("7916", {"phone__gte": "7916", "phone__lt": "7917"}),
        ("7999", {"phone__gte": "7999", "phone__lt": "8000"}),
        ("0799", {"phone__gte": "0799", "phone__lt": "0800"}),
        ("999", {"phone__gte": "999"}),
    ],
)
def test_phone_search_is_a_range_on_the_index(prefix, expected):
    from messaging.api.filters import phone_prefix_range

    assert phone_prefix_range(prefix) == expected


def test_delete_client_cancels_unsent_and_keeps_sent_history(manager_api):
    client = make_client("79161234567")
    other = make_client("79161234568")
    campaign = make_campaign()
    sent = Message.objects.create(campaign=campaign, client=client, phone=client.phone)
    later = make_campaign()
    pending = Message.objects.create(campaign=later, client=client, phone=client.phone)
    Message.objects.create(campaign=later, client=other, phone=other.phone)
    add_pending(campaign.pk, 1)
    add_pending(later.pk, 2)
    move_messages(Message.objects.filter(pk=sent.pk), ["pending"], MessageStatus.SENT)

    response = manager_api.delete(f"{URL}{client.pk}/")

    assert response.status_code == 204
    sent.refresh_from_db()
    pending.refresh_from_db()
    assert sent.status == MessageStatus.SENT and sent.client_id is None
    assert sent.phone == "79161234567"
    assert pending.status == MessageStatus.CANCELLED
    assert CampaignCounts.objects.get(pk=campaign.pk).sent == 1
    later_counts = recount(later.pk)
    assert (later_counts.pending, later_counts.cancelled) == (1, 1)
    assert CampaignCounts.objects.get(pk=later.pk).as_dict() == later_counts.as_dict()


def test_full_clean_fills_the_default_operator_code():
    client = Client(phone="79161234567", timezone="UTC")
    client.full_clean()
    assert client.operator_code == "916"
