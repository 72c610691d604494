from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyReportRun(models.Model):
    """The claim on one day's scheduled report: inserted before sending, unique per day.

    Whichever worker inserts the row sends the email; another one racing for the
    same day hits the unique constraint and stands down. Sends by hand (the
    command, the "send now" button) do not claim a day.
    """

    day = models.DateField(unique=True)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"Daily report {self.day:%Y-%m-%d}"


class ReportSettings(models.Model):
    """Who receives the daily report and when: one row, edited by Managers on the report
    page. Until someone saves it, the environment decides (REPORT_RECIPIENTS, REPORT_TIME);
    see messaging.reporting.reports.report_recipients / report_time."""

    recipients = models.TextField(
        _("recipients"), blank=True, default="", help_text=_("Email addresses, one per line.")
    )
    send_time = models.TimeField(_("send time"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("daily report settings")
        verbose_name_plural = _("daily report settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="report_settings_single_row")
        ]

    def __str__(self) -> str:
        return f"Daily report at {self.send_time:%H:%M}"

    @property
    def recipient_list(self) -> list[str]:
        return self.recipients.replace(",", " ").replace(";", " ").split()
