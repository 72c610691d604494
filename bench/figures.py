"""Figures computed from what the local provider saw: pure functions over its reports.

The provider's `/_requests` gives every API request's arrival time and msgId, and
`/_receipts` every msgId it accepted (answered 200 `code 0`) with a count. The
figures here are what the scenarios print; they never touch the database, so they
are tested on their own (tests/bench/test_figures.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def receipt_figures(receipts: Mapping) -> dict:
    """Receipts per msgId from a `/_receipts` answer: unique, total, duplicated, max."""
    per_msg = [entry["count"] for entry in receipts["receipts"].values()]
    return {
        "receipts_unique": len(per_msg),
        "receipts_total": sum(per_msg),
        # msgIds the provider accepted more than once: the same person got the text twice.
        "receipts_duplicated": sum(1 for n in per_msg if n > 1),
        "max_receipts_per_msg": max(per_msg, default=0),
    }


def accepted_ids(receipts: Mapping) -> set[int]:
    return {int(msg_id) for msg_id in receipts["receipts"]}


def accepted_recorded_otherwise(receipts: Mapping, sent_ids: set[int]) -> int:
    """msgIds the provider accepted whose message is not recorded `sent` (`sent_ids`)."""
    return len(accepted_ids(receipts) - sent_ids)


def requests_at_or_after(requests: Iterable[Mapping], end_at: Mapping[int, float]) -> int:
    """Requests that arrived at or after the end of their message's campaign.

    `end_at` maps msgId -> the campaign's end (epoch seconds); other msgIds are ignored.
    """
    count = 0
    for request in requests:
        end = end_at.get(request["id"])
        if end is not None and request["at"] >= end:
            count += 1
    return count


@dataclass(frozen=True)
class FirstPass:
    """The part of a run in which some message had not been tried yet."""

    started: float  # arrival of the first request
    ended: float  # arrival of the first request for the last message to get one
    messages: int  # distinct msgIds requested
    longest_gap_s: float  # longest time with no request arriving, inside [started, ended]

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def rate(self) -> float:
        """Messages tried per second while untried ones were waiting."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def first_pass(requests: Iterable[Mapping]) -> FirstPass | None:
    """When every message had been tried once, and the longest stall on the way.

    While a message is still waiting for its first request, the pipeline has work it
    could do: a gap with no request at all (retries included) is a stall, for
    example every slot held by a hung request.
    """
    arrivals = sorted((r["at"], r["id"]) for r in requests)
    if not arrivals:
        return None
    seen: set = set()
    ended = arrivals[0][0]
    for at, msg_id in arrivals:
        if msg_id not in seen:
            seen.add(msg_id)
            ended = at
    gap, previous = 0.0, arrivals[0][0]
    for at, _ in arrivals:
        if at > ended:
            break
        gap = max(gap, at - previous)
        previous = at
    return FirstPass(arrivals[0][0], ended, len(seen), gap)


def max_in_any_second(times: Iterable[float]) -> int:
    """The most events in any one-second window (sliding, not calendar seconds)."""
    ordered = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def per_second(times: Iterable[float], since: float | None = None) -> list[int]:
    """Counts per whole second from `since` (default: the first time): a timeline."""
    ordered = sorted(times)
    if not ordered:
        return []
    origin = ordered[0] if since is None else since
    counts = [0] * (int(ordered[-1] - origin) + 1)
    for at in ordered:
        if at >= origin:
            counts[int(at - origin)] += 1
    return counts
