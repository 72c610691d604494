from __future__ import annotations

import django_filters
from django.db.models import Q

from messaging.models import Campaign, CampaignStatus, Client, Message, MessageStatus


class ClientFilter(django_filters.FilterSet):
    operator_code = django_filters.CharFilter(help_text="Exact operator code, e.g. 916.")
    tag = django_filters.CharFilter(help_text="Exact tag.")
    timezone = django_filters.CharFilter(help_text="Exact IANA time zone.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the phone, or part of the tag."
    )

    class Meta:
        model = Client
        fields = ["operator_code", "tag", "timezone", "search"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isdigit():
            # Phones are searched by prefix so the unique index serves the query.
            return queryset.filter(Q(phone__startswith=value) | Q(tag__icontains=value))
        return queryset.filter(tag__icontains=value)


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CampaignStatus.choices)

    class Meta:
        model = Campaign
        fields = ["status"]


class MessageFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=MessageStatus.choices, help_text="Only messages in this status."
    )

    class Meta:
        model = Message
        fields = ["status"]
