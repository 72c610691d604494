"""django-tables2 tables: sort and page links are plain hrefs, made partial by hx-boost."""

from __future__ import annotations

from datetime import datetime

import django_tables2 as tables
from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dashboard.templatetags.herald import message_badge, message_reason
from messaging.campaigns.phones import display_phone
from messaging.models import Campaign, Client, DeliveryAttempt, Message, MessageStatus
from messaging.reporting.humanize import zone_name

# Per language: config/formats/<lang>/formats.py.
TIME = "SHORT_DATETIME_FORMAT"
# Links to other pages leave the hx-boosted table container as full navigations.
FULL_PAGE_LINK = {"a": {"hx-boost": "false"}}


def _column_name(bound_column) -> str:
    return str(bound_column.header or "")


# On a phone (below 576 px, static/css/herald.css) each row of these tables becomes a
# card: every cell shows its column's name from data-label, so nothing scrolls sideways.
CARD_CELLS = {"data-label": _column_name}


def page_size(asked: int | None) -> int:
    """Rows on a page: `?per_page=` as asked, within 1..UI_MAX_PAGE_SIZE; UI_PAGE_SIZE when
    missing or below 1 (django-tables2 takes it from the query as any integer at all)."""
    if asked is None or asked < 1:
        return settings.UI_PAGE_SIZE
    return min(asked, settings.UI_MAX_PAGE_SIZE)


class KnownCountPaginator(Paginator):
    """A paginator told how many rows there are (a kept counter, or an estimate) instead
    of counting them: counting a million messages of a sending campaign read the whole
    table (180 ms on PostgreSQL before any VACUUM)."""

    def __init__(self, object_list, per_page, *args, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        if count is not None:
            self.count = count  # in place of the cached property that would count


class BoundedTable(tables.Table):
    """Every table of the UI: whatever `?per_page=` says, a page has a bounded number of
    rows, as the API's page_size has (`?per_page=50000` used to render 50,000 clients)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A card cell's label is its column's name: written once per column here rather
        # than called per cell (django-tables2 inspects a callable's signature each call:
        # a fifth of the clients list's render time).
        for bound in self.columns:
            column = bound.column
            td = column.attrs.get("td", self.attrs.get("td"))
            if td and td.get("data-label") is _column_name:
                column.attrs = {**column.attrs, "td": {**td, "data-label": _column_name(bound)}}

    def paginate(self, paginator_class=Paginator, per_page=None, page=1, *args, **kwargs):
        return super().paginate(paginator_class, page_size(per_page), page, *args, **kwargs)


class TimeColumn(tables.Column):
    """A moment in the viewer's time zone, in their language's SHORT_DATETIME_FORMAT: what
    `{{ value|date:"SHORT_DATETIME_FORMAT" }}` writes. django-tables2's DateTimeColumn
    writes the same through a template that it parses again for every cell (200 us a
    cell, a sixth of the clients list's time while a large campaign sent)."""

    def render(self, value):
        return date_format(localtime(value), TIME)

    def value(self, value, **kwargs):
        """Exports take the ISO time, as DateTimeColumn's do."""
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value


class PhoneColumn(tables.Column):
    """A phone as people read it: +7 (916) 123-45-67."""

    def render(self, value):
        return display_phone(value)


class ClientTable(BoundedTable):
    phone = PhoneColumn(
        verbose_name=_("Phone"),
        linkify=("dashboard:client-detail", {"pk": tables.A("pk")}),
        attrs=FULL_PAGE_LINK,
    )
    name = tables.Column(verbose_name=pgettext_lazy("person", "Name"))
    operator_code = tables.Column(verbose_name=_("Operator"))
    tag = tables.Column(verbose_name=_("Tag"))
    timezone = tables.Column(verbose_name=_("Time zone"))

    def render_timezone(self, value):
        return zone_name(value)

    # Sorted by id, which follows the order clients were added and has an index.
    created_at = TimeColumn(verbose_name=_("Added"), order_by=("id",))
    actions = tables.Column(
        accessor="pk",
        orderable=False,
        verbose_name="",
        attrs={"td": {"class": "text-end text-nowrap cell-actions", **CARD_CELLS}},
    )

    def render_actions(self, record):
        """Edit (in the page's dialog) and Delete, written in Python: a template per row
        was the slowest cell of this list."""
        phone = display_phone(record.phone)
        edit = reverse("dashboard:client-edit", args=[record.pk])
        return format_html(
            '<a class="btn btn-sm btn-outline-secondary" href="{}" hx-get="{}" '
            'hx-target="#client-modal-content" aria-label="{}">{}</a>\n'
            '<a class="btn btn-sm btn-outline-danger" href="{}" hx-boost="false" '
            'aria-label="{}">{}</a>',
            edit,
            edit,
            gettext("Edit %(phone)s") % {"phone": phone},
            gettext("Edit"),
            reverse("dashboard:client-delete", args=[record.pk]),
            gettext("Delete %(phone)s") % {"phone": phone},
            gettext("Delete"),
        )

    class Meta:
        model = Client
        fields = ["phone", "name", "operator_code", "tag", "timezone", "created_at"]
        order_by = "-created_at"  # newest first
        empty_text = _("No clients yet. Add one, or import a CSV file.")
        attrs = {"class": "table table-hover align-middle table-cards", "td": CARD_CELLS}


class CampaignTable(BoundedTable):
    name = tables.TemplateColumn(
        template_name="dashboard/campaigns/_name_cell.html",
        order_by=("name", "id"),
        verbose_name=_("Name"),
    )
    status = tables.TemplateColumn(
        template_name="dashboard/campaigns/_status_cell.html", verbose_name=_("Status")
    )
    start_at = TimeColumn(verbose_name=_("Start"))
    end_at = TimeColumn(verbose_name=_("End"))
    progress = tables.TemplateColumn(
        template_name="dashboard/campaigns/_progress_cell.html",
        orderable=False,
        accessor="counts",
        verbose_name=_("Progress"),
    )

    class Meta:
        model = Campaign
        fields = ["name", "status", "start_at", "end_at"]
        sequence = ["name", "status", "start_at", "end_at", "progress"]
        empty_text = _("No campaigns yet. Create one to start sending.")
        attrs = {"class": "table table-hover align-middle table-cards", "td": CARD_CELLS}


class MessageTable(BoundedTable):
    """A page of messages. Its cells are rendered in Python rather than by a template each:
    a campaign's page shows this table on every refresh while it sends, and a template
    per cell was half of that page's time."""

    id = tables.Column(verbose_name=_("Message"))
    phone = tables.Column(verbose_name=_("Phone"))
    status = tables.Column(verbose_name=_("Status"))
    attempts = tables.Column(verbose_name=_("Attempts"))
    sent_at = TimeColumn(verbose_name=_("Sent"))
    last_error = tables.Column(verbose_name=_("Reason"), orderable=False, empty_values=())

    def render_id(self, record):
        url = reverse("dashboard:message-detail", args=[record.pk])
        return format_html('<a href="{}" hx-boost="false">{}</a>', url, record.pk)

    def render_phone(self, record):
        shown = display_phone(record.phone)
        if record.client_id:
            url = reverse("dashboard:client-detail", args=[record.client_id])
            return format_html('<span><a href="{}" hx-boost="false">{}</a></span>', url, shown)
        deleted = gettext("(client deleted)")
        return format_html(
            '<span>{} <span class="small text-body-secondary">{}</span></span>', shown, deleted
        )

    def render_status(self, record):
        badge = message_badge(record.status)
        # The label by the enum: get_status_display() rebuilds the choices for every call.
        label = MessageStatus(record.status).label
        return format_html('<span class="badge {}">{}</span>', badge, label)

    def render_last_error(self, record):
        reason = format_html("<span data-reason>{}</span>", message_reason(record))
        outcome = getattr(record, "last_outcome", None)
        status = getattr(record, "last_http_status", None)
        excerpt = getattr(record, "last_excerpt", None)
        if not (record.last_error or status or excerpt):
            return format_html("<div>{}</div>", reason)
        raw = format_html_join(
            "",
            "{}",
            (
                (part,)
                for part in (
                    outcome and format_html("<code>{}</code>", outcome),
                    status and format_html(" <code>HTTP {}</code>", status),
                    record.last_error
                    and format_html('<div class="text-break">{}</div>', record.last_error),
                    excerpt and format_html('<code class="d-block text-break">{}</code>', excerpt),
                )
                if part
            ),
        )
        return format_html(
            '<div>{}\n<details class="raw-answer small"><summary>{}</summary>{}</details></div>',
            reason,
            gettext("Raw"),
            raw,
        )

    class Meta:
        model = Message
        fields = ["id", "phone", "status", "attempts", "sent_at", "last_error"]
        empty_text = _("No messages here. Messages are created when the campaign starts.")
        attrs = {
            "class": "table table-sm table-hover align-middle table-cards",
            "td": CARD_CELLS,
        }


def with_last_attempt(messages: QuerySet) -> QuerySet:
    """Messages with their latest attempt's outcome, for the reason in plain words.

    A correlated subquery per row of the page shown (the table is paginated), using the
    attempts' (message, started_at) index.
    """
    latest = DeliveryAttempt.objects.filter(message=OuterRef("pk")).order_by("-started_at", "-id")
    return messages.annotate(
        last_outcome=Subquery(latest.values("outcome")[:1]),
        last_http_status=Subquery(latest.values("http_status")[:1]),
        last_duration_ms=Subquery(latest.values("duration_ms")[:1]),
        last_excerpt=Subquery(latest.values("response_excerpt")[:1]),
        campaign_end_at=F("campaign__end_at"),
    )


class ClientMessageTable(MessageTable):
    campaign = tables.Column(
        verbose_name=_("Campaign"),
        linkify=("dashboard:campaign-detail", {"pk": tables.A("campaign_id")}),
        attrs=FULL_PAGE_LINK,
    )

    class Meta(MessageTable.Meta):
        fields = ["id", "campaign", "status", "attempts", "sent_at", "last_error"]
        exclude = ["phone"]
        empty_text = _("No messages to this client yet.")
