"""The daily statistics email: what it says, when it is due, and sending it once per day.

Report for day D: the campaigns active in the 24 hours before D's REPORT_TIME
(in REPORT_TIMEZONE), with their message counts by status as they stand when
the report is built. Asked for before it is due (a preview), the period ends now.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from messaging.models import CampaignStatus, DailyReportRun, ReportSettings
from messaging.models.counters import COUNT_FIELDS
from messaging.reporting import stats
from messaging.reporting.emails import RenderedEmail, render_email, send_email
from messaging.reporting.humanize import number
from messaging.reporting.provider_state import SENDING_NORMAL, provider_state

log = logging.getLogger(__name__)

SCHEDULE_NAME = "herald: daily report"
# After a failed send, the scheduled task tries again this much later (while not too late).
RETRY_AFTER = timedelta(minutes=10)
STATUSES = [status.value for status in COUNT_FIELDS]


# --- Who receives it and when ---------------------------------------------------------


def stored_settings() -> ReportSettings | None:
    """The recipients and time Managers saved on the report page (None: never saved)."""
    return ReportSettings.objects.filter(pk=1).first()


def report_recipients() -> list[str]:
    """Where the report goes: the addresses saved on the report page, or REPORT_RECIPIENTS
    until someone saves them."""
    stored = stored_settings()
    return stored.recipient_list if stored else list(settings.REPORT_RECIPIENTS)


def report_time() -> time:
    """The time of day the report is due (in REPORT_TIMEZONE): saved on the report page,
    or REPORT_TIME until someone saves it."""
    stored = stored_settings()
    return stored.send_time if stored else settings.REPORT_TIME


def save_settings(*, recipients: list[str], send_time: time, user=None, now=None) -> None:
    """Store the report's recipients and time, and move the daily schedule to that time."""
    ReportSettings.objects.update_or_create(
        pk=1,
        defaults={"recipients": "\n".join(recipients), "send_time": send_time, "updated_by": user},
    )
    _set_next_run(next_due(now or timezone.now()))
    log.info(
        "daily report settings saved recipients=%d time=%s user_id=%s",
        len(recipients),
        send_time.strftime("%H:%M"),
        getattr(user, "pk", None),
    )


# --- When reports are due ------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.REPORT_TIMEZONE)


def due_at(day: date, at: time | None = None) -> datetime:
    """The moment `day`'s report is due: the report time on that day in REPORT_TIMEZONE."""
    return datetime.combine(day, at or report_time(), tzinfo=_zone())


def latest_due_day(now: datetime) -> date:
    """The day of the most recent report due at or before `now`."""
    day, at = now.astimezone(_zone()).date(), report_time()
    return day if due_at(day, at) <= now else day - timedelta(days=1)


def next_due(now: datetime) -> datetime:
    """The first report time strictly after `now`."""
    day, at = now.astimezone(_zone()).date(), report_time()
    while due_at(day, at) <= now:
        day += timedelta(days=1)
    return due_at(day, at)


def next_report_day(now: datetime) -> date:
    """The day of the next report due: after today's REPORT_TIME that is tomorrow's, which so
    far covers the 24 hours up to now (today's, already due, would end at REPORT_TIME)."""
    return next_due(now).astimezone(_zone()).date()


# --- What the report says ---------------------------------------------------------


def success_rate(counts: dict[str, int]) -> float | None:
    """Sent out of the messages whose delivery was decided (sent, failed, expired).

    Cancelled messages are left out: someone chose not to send them.
    """
    decided = counts["sent"] + counts["failed"] + counts["expired"]
    return counts["sent"] / decided if decided else None


def as_percent(rate: float | None) -> str:
    """The rate as a percentage written the way the current language writes numbers."""
    if rate is None:
        return _("n/a")
    return _("%(percent)s%%") % {"percent": formats.number_format(rate * 100, 1)}


@dataclass
class CampaignLine:
    id: int
    name: str
    status: str
    counts: dict[str, int]
    total: int
    success_rate: float | None
    sent_in_period: int
    failed_in_period: int

    @property
    def success_percent(self) -> str:
        return as_percent(self.success_rate)


@dataclass
class DailyReport:
    day: date
    period_start: datetime
    period_end: datetime
    campaigns: list[CampaignLine]
    totals: dict[str, int]
    total_messages: int
    success_rate: float | None
    sent_in_period: int
    failed_in_period: int
    attention: list[str]
    provider: dict
    email: RenderedEmail = field(repr=False)

    @property
    def subject(self) -> str:
        return self.email.subject

    @property
    def text(self) -> str:
        return self.email.text

    @property
    def html(self) -> str:
        return self.email.html


def _campaign_lines(start: datetime, end: datetime) -> list[CampaignLine]:
    sends = stats.sends_by_campaign(start, end)
    lines = []
    for campaign in stats.campaigns_active_between(start, end):
        counts = stats.counts_of(getattr(campaign, "counts", None))
        in_period = sends.get(campaign.pk, {})
        lines.append(
            CampaignLine(
                id=campaign.pk,
                name=str(campaign),
                status=campaign.status,
                counts=counts,
                total=sum(counts.values()),
                success_rate=success_rate(counts),
                sent_in_period=in_period.get("sent", 0),
                failed_in_period=in_period.get("failed", 0),
            )
        )
    return lines


def _attention(lines: list[CampaignLine], provider: dict) -> list[str]:
    # The provider first, in the words every other reader of its state uses.
    notes = [] if provider["sending"] == SENDING_NORMAL else [provider["summary"]]
    for line in lines:
        about = {"name": line.name, "id": line.id}
        if failed := line.counts["failed"]:
            notes.append(
                ngettext(
                    "%(name)s (#%(id)s): %(count)s failed.",
                    "%(name)s (#%(id)s): %(count)s failed.",
                    failed,
                )
                % {**about, "count": number(failed)}
            )
        if expired := line.counts["expired"]:
            notes.append(
                ngettext(
                    "%(name)s (#%(id)s): %(count)s expired unsent.",
                    "%(name)s (#%(id)s): %(count)s expired unsent.",
                    expired,
                )
                % {**about, "count": number(expired)}
            )
        if line.status == CampaignStatus.PAUSED:
            notes.append(_("%(name)s (#%(id)s) is paused.") % about)
    return notes


def build_daily_report(
    day: date | None = None, *, now: datetime | None = None, shown_in: str | None = None
) -> DailyReport:
    """The report for `day` (today in REPORT_TIMEZONE by default), rendered and with its figures.

    Its times are written in REPORT_TIMEZONE (the email's readers share it), or in
    `shown_in` (the preview: the viewer's zone, as every page writes times)."""
    now = now or timezone.now()
    day = day or now.astimezone(_zone()).date()
    period_end = min(due_at(day), now)
    period_start = period_end - timedelta(hours=24)
    lines = _campaign_lines(period_start, period_end)
    totals = dict.fromkeys(STATUSES, 0)
    for line in lines:
        for status, n in line.counts.items():
            totals[status] += n
    provider = provider_state()
    figures: dict[str, Any] = {
        "day": day,
        "period_start": period_start,
        "period_end": period_end,
        "campaigns": lines,
        "totals": totals,
        "total_messages": sum(totals.values()),
        "success_rate": success_rate(totals),
        "sent_in_period": sum(line.sent_in_period for line in lines),
        "failed_in_period": sum(line.failed_in_period for line in lines),
        "attention": _attention(lines, provider),
        "provider": provider,
    }
    context = {
        **figures,
        "success_percent": as_percent(figures["success_rate"]),
        "report_timezone": shown_in or settings.REPORT_TIMEZONE,
    }
    return DailyReport(**figures, email=render_email("daily_report", context))


# --- Sending ---------------------------------------------------------------------


def send_daily_report(
    day: date | None = None,
    recipients: Sequence[str] | None = None,
    *,
    once: bool = False,
    now: datetime | None = None,
) -> bool:
    """Email the report for `day` to `recipients` (`report_recipients()` by default).

    With `once`, first claim the day (a unique DailyReportRun row): if another
    worker already has it, send nothing. A send that fails releases its claim and
    raises. Returns whether an email went out.
    """
    now = now or timezone.now()
    recipients = list(report_recipients() if recipients is None else recipients)
    if not recipients:
        log.warning("daily report not sent: no recipients (the report page, or REPORT_RECIPIENTS)")
        return False
    # The email goes to a list, not to a person with a chosen language: REPORT_LANGUAGE.
    with translation.override(settings.REPORT_LANGUAGE):
        report = build_daily_report(day, now=now)
    claim = None
    if once:
        try:
            with transaction.atomic():
                claim = DailyReportRun.objects.create(
                    day=report.day, claimed_at=now, recipients=", ".join(recipients)
                )
        except IntegrityError:
            log.info("daily report day=%s already claimed by another worker", report.day)
            return False
    try:
        send_email(report.email, recipients)
    except Exception:
        if claim is not None:
            claim.delete()
        log.exception("daily report day=%s could not be sent", report.day)
        raise
    if claim is not None:
        DailyReportRun.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    log.info(
        "daily report sent day=%s recipients=%d campaigns=%d",
        report.day,
        len(recipients),
        len(report.campaigns),
    )
    return True


def send_scheduled_report(now: datetime | None = None) -> str:
    """The daily schedule's task: send the latest due report once, never a backlog.

    The rule: the report due most recently (at REPORT_TIME in REPORT_TIMEZONE)
    is sent if no worker has sent it yet and it is at most REPORT_MAX_DELAY_MINUTES
    late; an older or later one is skipped. Afterwards the schedule is set to the
    next report time, computed in REPORT_TIMEZONE (django-q2 computes it in
    TIME_ZONE, which drifts by an hour across daylight saving changes).
    """
    now = now or timezone.now()
    day = latest_due_day(now)
    late = now - due_at(day)
    max_delay = timedelta(minutes=settings.REPORT_MAX_DELAY_MINUTES)
    next_run = next_due(now)
    try:
        if late > max_delay:
            log.warning(
                "daily report day=%s skipped: the worker ran %d min after it was due "
                "(REPORT_MAX_DELAY_MINUTES=%d); send it by hand with send_daily_report --date",
                day,
                late.total_seconds() // 60,
                settings.REPORT_MAX_DELAY_MINUTES,
            )
            return "skipped"
        if DailyReportRun.objects.filter(day=day).exists():
            return "already sent"
        return "sent" if send_daily_report(day, once=True, now=now) else "not sent"
    except Exception:
        if late + RETRY_AFTER <= max_delay:
            next_run = now + RETRY_AFTER
        raise
    finally:
        _set_next_run(next_run)


def last_sent_at() -> datetime | None:
    """When the last scheduled report went out (None before the first)."""
    return (
        DailyReportRun.objects.filter(sent_at__isnull=False)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )


def _set_next_run(next_run: datetime) -> None:
    from django_q.models import Schedule

    Schedule.objects.filter(name=SCHEDULE_NAME).update(next_run=next_run)
