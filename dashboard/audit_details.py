"""An audit event's detail on the audit page, in the viewer's language.

The service that made the change stores it as `key=value; key=value` (security.audit): a
launch as "campaign=12; recipients=50011", an opt-out as "client=7; via=hand; cancelled=3".
Here those become words and links. A detail that does not read as its kind's (an older
row, a sign-in's free text) is shown as stored, each part translated if it can be.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext as _

from messaging.campaigns.phones import display_phone
from messaging.models import Via
from messaging.reporting import humanize

# Audit details are stored (and logged) in English, "; "-separated; the audit page
# shows the known ones translated. Marked here so makemessages finds them.
AUDIT_DETAILS = (
    gettext_noop("locked out"),
    gettext_noop("too many failed sign-ins"),
    gettext_noop("account page"),
    gettext_noop("replaces the previous token"),
    # security/audit.py's REFUSED, and the SSO refusals (dashboard/auth_pipeline.py,
    # security/sso.py).
    gettext_noop("refused: user name locked at this address"),
    gettext_noop("refused: address locked"),
    gettext_noop("refused: slowed down, too many failures for this user name"),
    gettext_noop("no email address"),
    gettext_noop("email not verified"),
    gettext_noop("email domain not allowed"),
    gettext_noop("refused by the provider, or not a valid answer from it"),
)


def as_stored(detail: str) -> str:
    return "; ".join(gettext(part) for part in detail.split("; ")) if detail else ""


def describe(kind: str, detail: str) -> str:
    fields = dict(part.partition("=")[::2] for part in detail.split("; ")) if detail else {}
    words = _BY_KIND.get(kind)
    try:
        parts = words(fields) if words else None
    except (KeyError, ValueError):  # not this kind's fields: as stored
        parts = None
    if not parts:
        return as_stored(detail)
    return format_html_join(", ", "{}", ((part,) for part in parts))


def _number(fields: dict[str, str], key: str) -> int:
    value = fields[key]
    if not value.isdigit():
        raise ValueError(key)
    return int(value)


def _via(fields: dict[str, str]) -> str:
    return str(Via(fields["via"]).label)


def _link(view: str, pk: int, text: str) -> SafeString:
    return format_html('<a href="{}">{}</a>', reverse(view, args=[pk]), text)


def _cancelled(fields: dict[str, str]) -> list[str]:
    n = _number(fields, "cancelled")
    if not n:
        return []
    return [
        ngettext(
            "%(n)s pending message was cancelled.", "%(n)s pending messages were cancelled.", n
        )
        % {"n": humanize.number(n)}
    ]


def _phones(n: int) -> str:
    return ngettext("%(n)s phone", "%(n)s phones", n) % {"n": humanize.number(n)}


def _launched(fields):
    n = _number(fields, "recipients")
    return [
        _link("dashboard:campaign-detail", _number(fields, "campaign"), _campaign(fields)),
        ngettext("%(n)s recipient", "%(n)s recipients", n) % {"n": humanize.number(n)},
    ]


def _campaign(fields) -> str:
    return _("Campaign #%(id)s") % {"id": _number(fields, "campaign")}


def _client(fields) -> SafeString:
    pk = _number(fields, "client")
    return _link("dashboard:client-detail", pk, _("Client #%(id)s") % {"id": pk})


def _opted_out(fields):
    if "client" in fields:
        return [_client(fields), _via(fields), *_cancelled(fields)]
    clients, added = _number(fields, "clients"), _number(fields, "stop_list_added")
    return [
        _phones(_number(fields, "phones")),
        ngettext("%(n)s client opted out", "%(n)s clients opted out", clients)
        % {"n": humanize.number(clients)},
        _("added to the stop list: %(n)s") % {"n": humanize.number(added)},
        _via(fields),
        *_cancelled(fields),
    ]


def _stop_list_added(fields):
    added = _number(fields, "added")
    return [
        _phones(_number(fields, "phones")),
        _("new on the list: %(n)s") % {"n": humanize.number(added)},
        _via(fields),
        *_cancelled(fields),
    ]


def _stop_list_removed(fields):
    return [display_phone(fields["phone"])]


_BY_KIND = {
    "campaign_launched": _launched,
    "opted_out": _opted_out,
    "opted_in": lambda fields: [_client(fields)],
    "stop_list_added": _stop_list_added,
    "stop_list_removed": _stop_list_removed,
}
