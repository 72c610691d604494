"""The daily report page: a preview of today's report and "send now" for Managers.

The report's HTML body is an email, written with inline styles for mail clients. It is
never inlined into the page: the page frames it from `report-html`, a response of its
own whose Content-Security-Policy allows those inline styles and nothing else (no
script, no request anywhere), and which is sandboxed twice (the CSP `sandbox`
directive and the iframe's `sandbox` attribute). Both allow the same origin and nothing
else, so that the page's own script can size the frame to the email (no inner scrollbar);
no script can run inside it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from dashboard.access import readers
from dashboard.forms import ReportSettingsForm
from messaging.reporting import reports

log = logging.getLogger(__name__)

# The email's own policy: its inline styles render; nothing can run or load.
REPORT_HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'; sandbox allow-same-origin"
)


def _where_it_went() -> str:
    if settings.EMAIL_HOST:
        return _("by email through %(host)s") % {"host": settings.EMAIL_HOST}
    return _("only to the server's console: no EMAIL_HOST is set, so no email left this server")


def _send_now(request) -> None:
    if not settings.EMAIL_HOST and not settings.DEBUG:
        # In production an unconfigured SMTP server would only print the report to
        # the web process's output, where nobody reads it: refuse and say why.
        messages.error(
            request,
            _(
                "Not sent: no SMTP server is configured (EMAIL_HOST). "
                "Set EMAIL_HOST and the other EMAIL_* settings to send the report."
            ),
        )
        return
    try:
        # What the preview shows: the next report, so far.
        sent = reports.send_daily_report(reports.next_report_day(timezone.now()))
    except OSError as exc:  # the SMTP server refused or is unreachable (smtplib's errors too)
        log.exception("daily report could not be sent from the web UI")
        messages.error(
            request, _("The report could not be sent (%(error)s).") % {"error": type(exc).__name__}
        )
        return
    if sent:
        recipients = ", ".join(reports.report_recipients())
        messages.success(
            request,
            _("The daily report was sent to %(recipients)s, %(where)s.")
            % {"recipients": recipients, "where": _where_it_went()},
        )
    else:
        messages.warning(
            request, _("Nothing was sent: nobody receives the report yet. Add addresses first.")
        )
    log.info(
        "daily report sent from the web UI user_id=%s sent=%s email_host=%s",
        request.user.pk,
        sent,
        settings.EMAIL_HOST or "(console)",
    )


def _preview(request) -> reports.DailyReport:
    """What the next report would say now, with times in the viewer's zone."""
    return reports.build_daily_report(
        reports.next_report_day(timezone.now()),
        shown_in=getattr(request, "viewer_timezone", None),
    )


def _settings_form(data=None) -> ReportSettingsForm:
    initial = {
        "recipients": "\n".join(reports.report_recipients()),
        "send_time": reports.report_time(),
    }
    return ReportSettingsForm(data, initial=initial)


@readers
def daily_report(request):
    """Preview today's daily report; Managers set who receives it and when, and send it now."""
    form = _settings_form()
    status = 200
    if request.method == "POST" and request.POST.get("action") == "settings":
        form = _settings_form(request.POST)
        if form.is_valid():
            reports.save_settings(
                recipients=form.cleaned_data["recipients"],
                send_time=form.cleaned_data["send_time"],
                user=request.user,
            )
            messages.success(request, _("Saved: the next report goes out as set below."))
            return redirect("dashboard:report")
        status = 400
    elif request.method == "POST":
        _send_now(request)
        return redirect("dashboard:report")
    stored = reports.stored_settings()
    return render(
        request,
        "dashboard/report.html",
        {
            "report": _preview(request),
            "recipients": reports.report_recipients(),
            "send_time": reports.report_time(),
            "report_timezone": settings.REPORT_TIMEZONE,
            "next_due": reports.next_due(timezone.now()),
            "from_environment": stored is None,
            "settings_form": form,
            "email_host": settings.EMAIL_HOST,
        },
        status=status,
    )


@readers
@xframe_options_sameorigin
def daily_report_html(request):
    """The report's HTML body alone, framed by the report page."""
    response = HttpResponse(_preview(request).html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = REPORT_HTML_CSP
    return response
