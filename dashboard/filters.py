"""Filters of the web UI's tables; the client filter shares its rules with the REST API."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from messaging.api.filters import STANDINGS, SearchFilter
from messaging.api.filters import ClientFilter as ApiClientFilter
from messaging.models import Campaign, CampaignStatus, Client
from messaging.reporting.humanize import zone_name


def client_timezones() -> list[tuple[str, str]]:
    # The zones in use, read at most once a minute per process: DISTINCT over a
    # million clients is too slow for every page of the table.
    zones = cache.get("herald:client-timezones")
    if zones is None:
        zones = list(
            Client.objects.order_by("timezone").values_list("timezone", flat=True).distinct()
        )
        cache.set("herald:client-timezones", zones, 60)
    return [(zone, zone_name(zone)) for zone in zones]


def _distinct(field: str, limit: int = 200) -> list[str]:
    key = f"herald:client-{field}-values"
    values = cache.get(key)
    if values is None:
        values = list(
            Client.objects.exclude(**{field: ""})
            .order_by(field)
            .values_list(field, flat=True)
            .distinct()[:limit]
        )
        cache.set(key, values, 60)
    return values


def client_operator_codes() -> list[str]:
    """The operator codes clients have, for the campaign form's suggestions."""
    return _distinct("operator_code")


def client_tags() -> list[str]:
    """The tags clients have, for the campaign form's suggestions."""
    return _distinct("tag")


class ClientFilter(ApiClientFilter):
    search = SearchFilter(
        method="filter_search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Phone or tag")}),
    )
    operator_code = django_filters.CharFilter(
        label=_("Operator code"), widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    tag = django_filters.CharFilter(label=_("Tag"), method="filter_tag")
    # A picker here; the API's ClientFilter takes any zone's name.
    timezone = django_filters.ChoiceFilter(  # type: ignore[assignment]
        label=_("Time zone"), choices=client_timezones, empty_label=_("Any time zone")
    )
    standing = django_filters.ChoiceFilter(
        label=_("Opt-out and consent"),
        method="filter_standing",
        choices=STANDINGS,
        empty_label=_("Anyone"),
    )

    class Meta(ApiClientFilter.Meta):
        fields = ["search", "operator_code", "tag", "timezone", "standing"]

    @property
    def form(self):
        form = super().form
        # Ids apart from the client form's (the add/edit modal sits on the same page).
        form.auto_id = "filter-%s"
        return form


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=CampaignStatus.choices, label=_("Status"), empty_label=_("Any status")
    )
    name = django_filters.CharFilter(label=_("Name"), lookup_expr="icontains")

    class Meta:
        model = Campaign
        fields = ["status", "name"]
