from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from messaging.models import Campaign, CampaignStatus, Client, Message, MessageStatus
from messaging.phones import ASCII_DIGITS_MESSAGE, non_ascii_digits, search_prefix
from messaging.validators import tag_key


class SearchField(forms.CharField):
    """Refuses a number typed with digits other than 0-9 ("7٩..", "²"): a 400 or a form error.

    Text that merely contains such a character among letters stays a tag search.
    """

    def validate(self, value) -> None:
        super().validate(value)
        other = non_ascii_digits(value)
        letters = [ch for ch in value if ch.isalpha() and not ch.isdigit()]
        if other and not letters:
            raise ValidationError(ASCII_DIGITS_MESSAGE.format(digits=other), code="invalid")


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


def phone_prefix_range(prefix: str) -> dict[str, str]:
    """Lookups for phones starting with `prefix` ("7916" -> from "7916" up to "7917")."""
    lookups = {"phone__gte": prefix}
    if prefix.strip("9"):
        upper = str(int(prefix) + 1).zfill(len(prefix))
        lookups["phone__lt"] = upper
    return lookups


class ClientFilter(django_filters.FilterSet):
    operator_code = django_filters.CharFilter(help_text="Exact operator code, e.g. 916.")
    tag = django_filters.CharFilter(
        method="filter_tag", help_text="The tag, in any case (VIP finds vip)."
    )
    timezone = django_filters.CharFilter(help_text="Exact IANA time zone.")
    search = SearchFilter(
        method="filter_search",
        help_text=(
            "Digits 0-9: the start of the phone (e.g. 7916; typed as +7 (916) or 8 916 too). "
            "Other text: part of the tag. A number with other digits (٩, ²) is a 400."
        ),
    )

    class Meta:
        model = Client
        fields = ["operator_code", "tag", "timezone", "search"]

    def filter_tag(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(tag_key=tag_key(value))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        prefix = search_prefix(value)
        if prefix:
            # Digits search phones by prefix, as a range on the unique index (a LIKE
            # or an OR with the tag would scan every client).
            return queryset.filter(**phone_prefix_range(prefix))
        return queryset.filter(tag_key__contains=tag_key(value))


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
