"""Parsers of what a Manager types or sends do work in proportion to its size, and a list
too long for a campaign's filter is one clear error.

Found quadratic by the second security review: the form's tag de-duplication took 16.5 s
for 50,000 tags, and every view of the edit and duplicate pages of a campaign stored with
200,000 tags took 227 s of CPU. What is checked is the work done (items validated, rows
queried) and, as a guard that would have caught those, the CPU time this process spent
(not the wall clock, which other processes on the machine stretch).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.campaigns import sms
from messaging.campaigns.validators import FILTER_MAX_ITEMS, split_list
from messaging.models import Campaign
from tests.conftest import make_campaign

pytestmark = pytest.mark.django_db

# Generous: each case below takes well under a second here; the quadratic code took
# 16 s and more for the smallest of them.
CPU_GUARD_SECONDS = 8


@contextmanager
def cpu_guard(figures: dict, name: str):
    started = time.process_time()
    yield
    spent = time.process_time() - started
    figures[name] = round(spent, 3)
    assert spent < CPU_GUARD_SECONDS, f"{name}: {spent:.1f} s of CPU"


@pytest.fixture(scope="module")
def figures():
    found: dict[str, float] = {}
    yield found
    print("\nCPU seconds:", found)  # shown with -s; the README quotes them


def form_data(**values) -> dict:
    start = timezone.localtime() + timedelta(hours=1)
    data = {
        "name": "Spring",
        "text": "Hello",
        "start_at": start.strftime("%Y-%m-%dT%H:%M"),
        "end_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "operator_codes": "",
        "tags": "",
    }
    data.update(values)
    return data


def test_split_list_drops_blanks_and_repeats_keeping_the_first():
    assert split_list(" vip; VIP ,, vip,moscow ;") == ["vip", "VIP", "moscow"]
    many = ", ".join(f"t{n % 30_000}" for n in range(60_000))
    assert split_list(many) == [f"t{n}" for n in range(30_000)]


def test_fifty_thousand_tags_in_the_form_are_one_error(as_manager, figures, monkeypatch):
    from dashboard.forms import CampaignForm

    checked = []

    def look(item):  # a function, not checked.append: a form deep-copies its fields
        checked.append(item)

    # The field holds its validator from class definition: patch it there.
    monkeypatch.setattr(CampaignForm.base_fields["tags"], "item_validator", look)
    as_manager.post("/campaigns/new/", form_data(tags="a, b", text=""))  # refused: no text
    assert checked == ["a", "b"]  # the spy sees what the form checks one by one
    checked.clear()
    tags = ", ".join(f"tag{n}" for n in range(50_000))
    with cpu_guard(figures, "form with 50,000 tags"):
        response = as_manager.post("/campaigns/new/", form_data(tags=tags))
    assert response.status_code == 400
    assert "At most 1,000 values, please; this list has 50,000." in response.content.decode()
    assert checked == []  # no item looked at one by one
    assert not Campaign.objects.exists()


def test_the_limit_itself_is_accepted(as_manager):
    tags = ", ".join(f"tag{n}" for n in range(FILTER_MAX_ITEMS))
    response = as_manager.post("/campaigns/new/", form_data(tags=tags))
    assert response.status_code == 302
    assert len(Campaign.objects.get().tags) == FILTER_MAX_ITEMS


@pytest.fixture
def stored_with_200000_tags(db) -> Campaign:
    """Made before the limit existed (through the API, 200,000 tags): still on the pages."""
    campaign = make_campaign(name="Huge", tags=["vip"])
    Campaign.objects.filter(pk=campaign.pk).update(
        tags=[f"tag{n}" for n in range(200_000)], operator_codes=["916"]
    )
    return campaign


@pytest.mark.parametrize("page", ["edit", "duplicate"])
def test_a_campaign_stored_with_200000_tags_opens_its_form_pages(
    as_manager, stored_with_200000_tags, figures, page, django_assert_max_num_queries
):
    url = f"/campaigns/{stored_with_200000_tags.pk}/{page}/"
    # No count of matching clients over 200,000 tags, either.
    with cpu_guard(figures, f"{page} page, 200,000 stored tags"), django_assert_max_num_queries(15):
        response = as_manager.get(url)
    assert response.status_code == 200
    assert "tag199999" in response.content.decode()  # the form shows them as they are


def test_a_campaign_stored_with_200000_tags_shows_its_detail_and_list(
    as_manager, stored_with_200000_tags, figures
):
    with cpu_guard(figures, "detail and list, 200,000 stored tags"):
        assert as_manager.get(f"/campaigns/{stored_with_200000_tags.pk}/").status_code == 200
        assert as_manager.get("/campaigns/").status_code == 200


def test_saving_such_a_campaign_asks_for_a_shorter_list(as_manager, stored_with_200000_tags):
    response = as_manager.post(
        f"/campaigns/{stored_with_200000_tags.pk}/edit/",
        form_data(tags=", ".join(f"tag{n}" for n in range(200_000))),
    )
    assert response.status_code == 400
    assert "this list has 200,000" in response.content.decode()


def _campaign_body(**values) -> dict:
    start = timezone.now() + timedelta(hours=1)
    return {
        "text": "Hi",
        "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=1)).isoformat(),
        **values,
    }


def test_the_api_refuses_200000_tags_in_one_error(manager_api, figures):
    body = _campaign_body(tags=[f"tag{n}" for n in range(200_000)])
    with cpu_guard(figures, "API, 200,000 tags"):
        response = manager_api.post("/api/campaigns/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"tags": ["At most 1,000 values, please; this list has 200,000."]}
    assert not Campaign.objects.exists()


def test_the_api_drops_repeated_operator_codes_in_linear_time(manager_api, figures):
    """50,000 codes, each of the 1,000 fifty times: the repeats go, the 1,000 stay."""
    body = _campaign_body(operator_codes=[f"{n % 1000:03d}" for n in range(50_000)])
    with cpu_guard(figures, "API, 50,000 operator codes"):
        response = manager_api.post("/api/campaigns/", body, format="json")
    assert response.status_code == 201
    assert len(response.json()["operator_codes"]) == 1000


def test_the_sms_composer_lists_odd_characters_in_linear_time(figures):
    text = "".join(chr(0x4E00 + n) for n in range(20_000)) * 5  # 20,000 distinct, repeated
    with cpu_guard(figures, "composer, 100,000 characters"):
        odd = sms.non_gsm_characters(text)
    assert len(odd) == 20_000 and odd[0] == "一"
