"""Every page in Russian writes numbers, dates and time zones the Russian way: no IANA
zone name where the zone has a city, no ISO date inside a sentence, no number of four
digits or more without its group separator (outside table cells, where phones and ids
are data); the daily report and its subject too."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone, translation

from dashboard.middleware import TZ_COOKIE
from messaging.campaigns.timezones import CITY_ZONES
from messaging.models import DeliveryAttempt
from messaging.models.counters import _adjust, add_pending, record_sends
from messaging.reporting import reports
from messaging.reporting.humanize import moment, number, zone_name
from tests.i18n.test_languages import _render_all
from tests.i18n.test_languages import russian_team as russian_team  # the fixture
from tests.support.i18n_pages import _Reader

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# Four digits or more in a row, not part of a longer token (a phone's +7 9161234567 is data,
# 2026 alone is a year: years are written without a separator in both languages).
LONG_NUMBER = re.compile(r"(?<![\w.,:/+\-#№])\d{4,}(?![\w.,:/\-])")
YEAR = re.compile(r"^(19|20)\d\d$")
PHONE = re.compile(r"^7\d{10}$")  # a phone typed in a file, shown back as it was typed


class _SentenceReader(_Reader):
    """The readable text without table cells (data: phones, ids, codes)."""

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        if tag in ("td",) and self.stack and self.stack[-1][0] == tag:
            self.stack[-1] = (tag, True)


def sentences(html: str) -> str:
    reader = _SentenceReader("ru")
    reader.feed(html)
    reader.close()
    return "\n".join(part.strip() for part in reader.parts)


def problems_in(text: str) -> list[str]:
    found = []
    for zone in CITY_ZONES:
        if zone in text:
            found.append(f"zone {zone}")
    found += [f"ISO date {m}" for m in ISO_DATE.findall(text)]
    found += [
        f"number {m}" for m in LONG_NUMBER.findall(text) if not YEAR.match(m) and not PHONE.match(m)
    ]
    return found


def big_figures(objects: dict) -> None:
    """Figures of four digits and more wherever pages and the report show counts."""
    campaign = objects["campaign"]
    add_pending(campaign.pk, 46_968)
    _adjust(campaign.pk, {"sent": 12_345, "failed": 2_079})
    record_sends(campaign.pk, sent=12_345, failed=2_079)
    DeliveryAttempt.objects.filter(message=objects["message"]).update(duration_ms=2079)


@pytest.mark.fast
def test_the_rules_find_what_they_look_for():
    assert problems_in("Время: Europe/Moscow") == ["zone Europe/Moscow"]
    assert problems_in("до окончания в 2026-12-07 03:29") == ["ISO date 2026-12-07"]
    assert problems_in("добавлено 50000") == ["number 50000"]
    assert problems_in("добавлено 50\xa0000, 2079\u202fмс, в 2026 году, 07.12.2026 03:29") == []


@pytest.mark.fast
def test_the_helpers_write_russian_and_english():
    with translation.override("ru"):
        assert number(46968) == "46\xa0968"
        assert zone_name("Europe/Moscow") == "Москва"
        assert moment(timezone.make_aware(timezone.datetime(2026, 12, 7, 3, 29))) == (
            "07.12.2026 03:29"
        )
    with translation.override("en"):
        assert number(46968) == "46,968"
        assert zone_name("Europe/Moscow") == "Moscow"
        assert zone_name("America/New_York") == "New York"


@pytest.mark.django_db
def test_every_page_in_russian_writes_numbers_dates_and_zones_the_russian_way(client, russian_team):
    big_figures(russian_team)
    client.cookies[TZ_COOKIE] = "Asia/Omsk"  # a viewer in Omsk: the zone has a city's name
    pages = _render_all(client, russian_team, "ru")
    assert len(pages) > 25
    problems = {}
    for name, html in pages:
        found = problems_in(sentences(html))
        if found:
            problems[name] = sorted(set(found))
    if problems:
        pytest.fail("\n".join(f"{name}: {found}" for name, found in problems.items()))


@pytest.mark.django_db
def test_the_daily_report_and_its_subject_in_russian(russian_team):
    big_figures(russian_team)
    with override_settings(REPORT_LANGUAGE="ru"), translation.override("ru"):
        report = reports.build_daily_report(reports.next_report_day(timezone.now()))
    assert re.search(r"12\s347", report.subject) and re.search(r"2\s080", report.subject)
    assert not problems_in(report.subject), report.subject
    assert not problems_in(report.text), report.text
    assert not problems_in(sentences(report.html)), report.html
    assert settings.REPORT_LANGUAGE
