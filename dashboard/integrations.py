"""The parts of the domain the UI uses that other parts of Herald provide.

Each call is guarded so that a missing or failing piece shows as "not
available" on a page instead of breaking it: a down provider or a broken
report template must never turn the dashboard into a 500.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from messaging import services
from messaging.services import TransitionRefused

log = logging.getLogger(__name__)


def _optional(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def provider_health() -> dict | None:
    """The engine's view of the provider, or None when it cannot be read."""
    health = _optional("messaging.engine.health", "provider_health")
    if health is None:
        return None
    try:
        return health()
    except Exception:
        log.exception("provider health could not be read")
        return None


def retry_available() -> bool:
    return hasattr(services, "retry_failed_messages")


def retry_failed(*, campaign) -> int:
    retry = getattr(services, "retry_failed_messages", None)
    if retry is None:
        raise TransitionRefused({"status": [_("Retrying failed messages is not available yet.")]})
    return retry(campaign=campaign)


@dataclass
class ReportPreview:
    subject: str
    text: str
    html: str


def build_report() -> ReportPreview | None:
    build = _optional("messaging.reports", "build_daily_report")
    if build is None:
        return None
    report = build()
    return ReportPreview(subject=report.subject, text=report.text, html=report.html)


def send_report_now() -> bool | None:
    """True when sent, False when there was nobody to send to, None when unavailable."""
    send = _optional("messaging.reports", "send_daily_report")
    if send is None:
        return None
    return bool(send())
