from __future__ import annotations

from django.db import models


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
