"""Send a daily report by hand (it does not count as that day's scheduled report)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from messaging.reporting.reports import send_daily_report


class Command(BaseCommand):
    help = (
        "Email the daily statistics report now. By default today's report (in REPORT_TIMEZONE) "
        "to its recipients (set on the report page, or REPORT_RECIPIENTS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The report's day, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--to", help="Comma-separated recipients instead of the report's own, a@b,c@d."
        )

    def handle(self, *args, date: str | None = None, to: str | None = None, **options):
        day = _parse_day(date) if date else None
        recipients = None
        if to is not None:
            recipients = [address.strip() for address in to.split(",") if address.strip()]
            bad = [address for address in recipients if "@" not in address]
            if bad or not recipients:
                raise CommandError(f"--to must list email addresses a@b,c@d, got {to!r}")
        try:
            sent = send_daily_report(day, recipients)
        except Exception as exc:
            raise CommandError(f"The report could not be sent: {exc}") from exc
        if not sent:
            raise CommandError(
                "No recipients: set them on the report page (or REPORT_RECIPIENTS), "
                "or pass --to a@b,c@d"
            )
        self.stdout.write(self.style.SUCCESS("Daily report sent."))


def _parse_day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--date must be a date YYYY-MM-DD, got {raw!r}") from None
