"""Who a campaign reaches: the clients its filter matches, less those a rule leaves out.

One source for both readers: the review before launch (how many, and who is left out and
why) and the engine's target selection (`lifecycle.select_targets` compiles `recipients()`
into its one INSERT ... SELECT), so the number a person confirms and the messages created
come from the same query.

`EXCLUSIONS` is the extensible part: each rule names a reason and the clients it leaves
out. The review counts each rule over the clients the rules before it left in, so a client
left out for two reasons is counted once, under the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.functional import Promise

from messaging.models import Campaign


@dataclass(frozen=True)
class Exclusion:
    """A reason some matching clients are never messaged."""

    code: str  # stable, for the API (e.g. "opted_out")
    label: str | Promise  # how the review names the reason, e.g. "opted out of messages"
    # The clients this rule leaves out of `campaign` (a Q over Client), None when it does
    # not apply to this campaign (e.g. a consent rule for a campaign that needs none).
    leaves_out: Callable[[Campaign], Q | None]


# Opt-outs, the stop list and consent for promotional campaigns come here.
EXCLUSIONS: list[Exclusion] = []


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
