"""Who a campaign reaches: the clients its filter matches, less those a rule leaves out.

One source for both readers: the review before launch (how many, and who is left out and
why) and the engine's target selection (`lifecycle.select_targets` compiles `recipients()`
into its one INSERT ... SELECT), so the number a person confirms and the messages created
come from the same query. The claim asks the same rules again of each message it takes
(`left_out_now`): an opt-out made while a campaign runs cancels the client's message.

`EXCLUSIONS` is the extensible part: each rule names a reason and the clients it leaves
out. The review counts each rule over the clients the rules before it left in, so a client
left out for two reasons is counted once, under the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from messaging.campaigns.validators import FILTER_MAX_ITEMS
from messaging.models import Campaign, Client, StopListEntry

WINDOW_CLOSED_TO_THE_END = "The client's send window does not open again before the end"


@dataclass(frozen=True)
class Exclusion:
    """A reason some matching clients are never messaged."""

    code: str  # stable, for the API (e.g. "opted_out")
    label: str | Promise  # how the review names the reason, e.g. "opted out of messages"
    # The clients this rule leaves out of `campaign` (a Q over Client), None when it does
    # not apply to this campaign (e.g. a consent rule for a campaign that needs none).
    leaves_out: Callable[[Campaign], Q | None]


EXCLUSIONS: list[Exclusion] = [
    Exclusion("opted_out", _("opted out"), lambda campaign: Q(opted_out_at__isnull=False)),
    Exclusion(
        "stop_list",
        _("on the stop list"),
        lambda campaign: Q(Exists(StopListEntry.objects.filter(phone=OuterRef("phone")))),
    ),
    Exclusion(
        "no_consent",
        _("no consent to promotional messages"),
        lambda campaign: Q(consent_at__isnull=True) if campaign.promotional else None,
    ),
]
# The reason a message cancelled at send time carries (Message.last_error), by rule.
CANCEL_REASONS = {
    "opted_out": "Client opted out",
    "stop_list": "Phone on the stop list",
    "no_consent": "No consent to promotional messages",
}


@dataclass(frozen=True)
class LeftOut:
    code: str
    label: str
    count: int


def _applicable(campaign: Campaign) -> list[tuple[Exclusion, Q]]:
    rules = []
    for rule in EXCLUSIONS:
        condition = rule.leaves_out(campaign)
        if condition is not None:
            rules.append((rule, condition))
    return rules


def label_of(code: str) -> str:
    return next((str(rule.label) for rule in EXCLUSIONS if rule.code == code), code)


def left_out_now(campaign: Campaign) -> Case | None:
    """For the claim (an expression over Message, one per claimed row, in the claim's own
    query): the code of the first rule that now leaves the message's client out, else
    NULL. The same conditions as `recipients`, asked of the client as it is now, so an
    opt-out or a stop-listing made while the campaign runs stops its pending message."""
    whens = [
        When(
            Exists(Client.objects.filter(pk=OuterRef("client_id")).filter(condition)),
            then=Value(rule.code),
        )
        for rule, condition in _applicable(campaign)
    ]
    return Case(*whens, default=Value(None), output_field=CharField()) if whens else None


def countable(campaign: Campaign) -> bool:
    """Whether the filter may be counted live on a page. Forms and the API refuse lists
    over FILTER_MAX_ITEMS; a campaign stored with one before that limit (200,000 tags)
    would cost seconds per count, so its pages show no live audience figures."""
    return (
        len(campaign.tags or ()) <= FILTER_MAX_ITEMS
        and len(campaign.operator_codes or ()) <= FILTER_MAX_ITEMS
    )


def recipients(campaign: Campaign) -> QuerySet:
    """The clients that would get a message: matching the filter, none left out."""
    clients = campaign.matching_clients()
    for _rule, condition in _applicable(campaign):
        clients = clients.exclude(condition)
    return clients


def left_out(campaign: Campaign) -> list[LeftOut]:
    """Each applicable rule with how many matching clients it leaves out (zeros included,
    so a person sees that the rule was checked)."""
    clients = campaign.matching_clients()
    result = []
    for rule, condition in _applicable(campaign):
        result.append(LeftOut(rule.code, str(rule.label), clients.filter(condition).count()))
        clients = clients.exclude(condition)
    return result
