from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from messaging.campaigns.phones import (
    ASCII_DIGITS_MESSAGE,
    is_valid_phone,
    non_ascii_digits,
    normalise_phone,
    search_digits,
    search_prefix,
)
from messaging.campaigns.validators import tag_key
from messaging.models import (
    Campaign,
    CampaignStatus,
    Client,
    Message,
    MessageStatus,
    StopListEntry,
)

# A run of at least this many digits is looked for anywhere in the phone.
SEARCH_RUN = 4
# A search for digits inside phones reads at most this many matches: one pass over the
# phones, stopped early when matches are many.
SEARCH_CAP = 1000


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


STANDINGS = [
    ("opted_out", _("Opted out")),
    ("stop_listed", _("On the stop list")),
    ("consent", _("With consent")),
    ("no_consent", _("Without consent")),
]


class ClientFilter(django_filters.FilterSet):
    operator_code = django_filters.CharFilter(help_text="Exact operator code, e.g. 916.")
    tag = django_filters.CharFilter(
        method="filter_tag", help_text="The tag, in any case (VIP finds vip)."
    )
    timezone = django_filters.CharFilter(help_text="Exact IANA time zone.")
    search = SearchFilter(
        method="filter_search",
        help_text=(
            "Digits 0-9 (spaces, brackets and dashes ignored): a whole number typed any "
            "common way finds that client; a run of 4 or more digits finds the phones that "
            "hold it anywhere (4567, 916123; at most 1,000 of them); fewer digits, "
            "or a number starting with +, the phones that start with them (+7 916 as 7916). "
            "Other text: part of the tag. A number with other digits (٩, ²) is a 400."
        ),
    )

    standing = django_filters.ChoiceFilter(
        method="filter_standing",
        choices=STANDINGS,
        help_text="opted_out: clients who opted out; stop_listed: clients whose phone is on "
        "the stop list; consent / no_consent: with or without consent to promotional "
        "messages.",
    )

    class Meta:
        model = Client
        fields = ["operator_code", "tag", "timezone", "standing", "search"]

    def filter_standing(self, queryset, name, value):
        listed = Exists(StopListEntry.objects.filter(phone=OuterRef("phone")))
        conditions = {
            "opted_out": Q(opted_out_at__isnull=False),
            "stop_listed": Q(listed),
            "consent": Q(consent_at__isnull=False),
            "no_consent": Q(consent_at__isnull=True),
        }
        return queryset.filter(conditions[value]) if value in conditions else queryset

    # How many matches a digits search found, when it stopped at SEARCH_CAP (else None).
    search_capped: int | None = None

    def filter_queryset(self, queryset):
        # The search last: a search for digits inside phones reads the matches of what the
        # other filters left, up to SEARCH_CAP.
        search = self.form.cleaned_data.get("search")
        others = {k: v for k, v in self.form.cleaned_data.items() if k != "search"}
        for name, value in others.items():
            queryset = self.filters[name].filter(queryset, value)
        if "search" in self.form.cleaned_data:
            queryset = self.filters["search"].filter(queryset, search)
        return queryset

    def filter_tag(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(tag_key=tag_key(value))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        digits = search_digits(value)
        if digits is None:
            return queryset.filter(tag_key__contains=tag_key(value))
        phone = normalise_phone(value)
        if is_valid_phone(phone):
            return queryset.filter(phone=phone)  # a whole number: the unique index
        prefix = search_prefix(value)
        assert prefix is not None  # it has digits (search_digits above)
        if value.startswith("+") or len(digits) < SEARCH_RUN:
            # The start of the phone, as a range on the unique index.
            return queryset.filter(**phone_prefix_range(prefix))
        return self.phones_holding(queryset, digits, prefix)

    def phones_holding(self, queryset, digits: str, prefix: str):
        """Clients whose phone holds `digits` anywhere (or starts with `prefix`: "8 916..."
        typed the domestic way), SEARCH_CAP of them at most.

        No B-tree index finds digits inside a value, so this reads the phones in whatever
        order is cheapest (no ORDER BY: on SQLite the unique index alone, which also holds
        the id; on PostgreSQL a parallel scan) and stops at SEARCH_CAP + 1 matches: at most
        one pass, however many clients and however the page is sorted; the page then finds
        its rows by id. bench/README.md has its cost at 1,000,000 clients.
        """
        matches = Q(phone__contains=digits)
        if prefix != digits:
            matches |= Q(**phone_prefix_range(prefix))
        ids = list(
            queryset.filter(matches).order_by().values_list("pk", flat=True)[: SEARCH_CAP + 1]
        )
        if len(ids) > SEARCH_CAP:
            self.search_capped = SEARCH_CAP
            ids = ids[:SEARCH_CAP]
        return queryset.filter(pk__in=ids)


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
