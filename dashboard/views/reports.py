from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from dashboard import integrations
from dashboard.access import readers

log = logging.getLogger(__name__)


@readers
def daily_report(request):
    """Preview today's daily report; Managers can send it now."""
    if request.method == "POST":
        try:
            sent = integrations.send_report_now()
        except Exception as exc:
            log.exception("daily report could not be sent from the web UI")
            messages.error(
                request,
                _("The report could not be sent (%(error)s).") % {"error": type(exc).__name__},
            )
            return redirect("dashboard:report")
        if sent is None:
            messages.error(request, _("The daily report is not available in this version."))
        elif sent:
            messages.success(request, _("The daily report was sent."))
        else:
            messages.warning(
                request, _("Nothing was sent: no recipients are set (REPORT_RECIPIENTS).")
            )
        log.info("daily report sent from the web UI user_id=%s sent=%s", request.user.pk, sent)
        return redirect("dashboard:report")
    try:
        report = integrations.build_report()
        error = None
    except Exception:
        log.exception("daily report preview failed")
        report, error = None, _("The report could not be built; the logs say why.")
    recipients = getattr(settings, "REPORT_RECIPIENTS", [])
    return render(
        request,
        "dashboard/report.html",
        {"report": report, "error": error, "recipients": recipients},
    )
