"""Who asked not to be messaged: opt-outs of clients and the stop list of phones.

Operations the web UI and the REST API both call (services re-exports them). Each
completes in one transaction or raises ValidationError having changed nothing.

Rules (targeting itself is messaging.campaigns.audience, the one source the engine and the review
read):
- Opting a client out records when, how (by hand, import, API) and why, and puts its phone
  on the stop list: deleting the client and importing it again never re-subscribes it.
- Opting in (a person's explicit act) clears both.
- The stop list lives apart from clients; an import never touches it or an opt-out.
- Either one cancels the phone's pending messages at once ("Client opted out", "Phone on
  the stop list"); a claim checks again, for anything that raced with it.
- Each change is in the audit trail (who, from where, what), written in its transaction:
  it decides who campaigns reach. `user` and `address` are the person's who asked.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging.campaigns.audience import CANCEL_REASONS
from messaging.campaigns.imports.columns import recognise
from messaging.campaigns.imports.reading import open_table
from messaging.campaigns.phones import normalise_phone, phone_error
from messaging.models import Client, Message, MessageStatus, StopListEntry, Via
from messaging.models.counters import move_messages
from security import audit
from security.models import AuditKind

log = logging.getLogger(__name__)

REASON_MAX_LENGTH = 200
STOP_LIST_COLUMNS = ("phone", "added_at", "via", "reason")
# Rejected rows listed in a stop-list import's report (all are counted).
REPORT_LIMIT = 100
# Phones per statement (SQLite bounds the parameters of one query).
CHUNK = 500


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": [_("At most %(max)s characters.") % {"max": REASON_MAX_LENGTH}]}
        )
    if "\x00" in reason:
        raise ValidationError({"reason": [_("Null characters are not allowed.")]})
    return reason


def _cancel_pending(messages, code: str) -> int:
    return move_messages(
        messages, [MessageStatus.PENDING], MessageStatus.CANCELLED, last_error=CANCEL_REASONS[code]
    )


def opt_out(
    *, client: Client, via: str, reason: str = "", user=None, address: str | None = None
) -> int:
    """Opt a client out (an opt-out already recorded keeps its time and how); returns how
    many of its pending messages were cancelled."""
    reason = _reason(reason)
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.opted_out_at is None:
            client.opted_out_at = timezone.now()
            client.opted_out_via = via
            client.opted_out_reason = reason
            client.save(update_fields=["opted_out_at", "opted_out_via", "opted_out_reason"])
        StopListEntry.objects.get_or_create(
            phone=client.phone, defaults={"via": via, "reason": reason}
        )
        cancelled = _cancel_pending(Message.objects.filter(client=client), "opted_out")
        audit.record(
            AuditKind.OPTED_OUT,
            user=user,
            address=address,
            detail=f"client={client.pk}; via={via}; cancelled={cancelled}",
        )
    log.info(
        "client opted out via=%s cancelled_messages=%d",
        via,
        cancelled,
        extra={"client_id": client.pk},
    )
    return cancelled


def opt_in(*, client: Client, user=None, address: str | None = None) -> Client:
    """Take an opt-out back: the client may be messaged again, its phone leaves the stop list."""
    with transaction.atomic():
        Client.objects.filter(pk=client.pk).update(
            opted_out_at=None, opted_out_via="", opted_out_reason="", updated_at=timezone.now()
        )
        StopListEntry.objects.filter(phone=client.phone).delete()
        audit.record(AuditKind.OPTED_IN, user=user, address=address, detail=f"client={client.pk}")
    client.refresh_from_db()
    log.info("client opted in", extra={"client_id": client.pk})
    return client


def opt_out_phones(
    *,
    phones: Iterable[str],
    via: str,
    reason: str = "",
    user=None,
    address: str | None = None,
) -> dict[str, int]:
    """Opt out the clients with these phones and put every phone on the stop list (a phone
    with no client yet is kept there for when it comes). Returns the figures."""
    numbers = _valid_phones(phones)
    reason = _reason(reason)
    now = timezone.now()
    with transaction.atomic():
        opted = 0
        for start in range(0, len(numbers), CHUNK):
            clients = Client.objects.filter(
                phone__in=numbers[start : start + CHUNK], opted_out_at__isnull=True
            )
            opted += clients.update(
                opted_out_at=now, opted_out_via=via, opted_out_reason=reason, updated_at=now
            )
        added, cancelled = _add(numbers, via=via, reason=reason, now=now)
        audit.record(
            AuditKind.OPTED_OUT,
            user=user,
            address=address,
            detail=f"phones={len(numbers)}; clients={opted}; stop_list_added={added}; "
            f"via={via}; cancelled={cancelled}",
        )
    log.info("clients opted out in bulk count=%d via=%s", opted, via)
    return {"opted_out": opted, "added_to_stop_list": added, "cancelled_messages": cancelled}


def _valid_phones(phones: Iterable[str]) -> list[str]:
    numbers, errors = [], []
    for raw in phones:
        phone = normalise_phone(str(raw))
        problem = phone_error(phone)
        if problem:
            errors.append(f"{str(raw)[:40]}: {problem}")
        else:
            numbers.append(phone)
    if errors:
        raise ValidationError({"phones": errors[:REPORT_LIMIT]})
    if not numbers:
        raise ValidationError({"phones": [_("Give at least one phone.")]})
    return list(dict.fromkeys(numbers))


def _add(numbers: list[str], *, via: str, reason: str, now) -> tuple[int, int]:
    """Put phones on the stop list; returns (how many were new, messages cancelled)."""
    added = cancelled = 0
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start : start + CHUNK]
        before = StopListEntry.objects.filter(phone__in=chunk).count()
        StopListEntry.objects.bulk_create(
            [StopListEntry(phone=p, via=via, reason=reason, added_at=now) for p in chunk],
            ignore_conflicts=True,
        )
        added += len(chunk) - before
        # By client (an indexed key), not by the message's own phone (not indexed).
        clients = Client.objects.filter(phone__in=chunk).values("pk")
        cancelled += _cancel_pending(Message.objects.filter(client__in=clients), "stop_list")
    return added, cancelled


def add_to_stop_list(
    *,
    phones: Iterable[str],
    via: str,
    reason: str = "",
    user=None,
    address: str | None = None,
) -> dict[str, int]:
    numbers = _valid_phones(phones)
    reason = _reason(reason)
    with transaction.atomic():
        added, cancelled = _add(numbers, via=via, reason=reason, now=timezone.now())
        _audit_added(len(numbers), added, cancelled, via=via, user=user, address=address)
    log.info("stop list added=%d via=%s cancelled_messages=%d", added, via, cancelled)
    return {"added": added, "already": len(numbers) - added, "cancelled_messages": cancelled}


def _audit_added(phones: int, added: int, cancelled: int, *, via: str, user, address) -> None:
    audit.record(
        AuditKind.STOP_LIST_ADDED,
        user=user,
        address=address,
        detail=f"phones={phones}; added={added}; via={via}; cancelled={cancelled}",
    )


def remove_from_stop_list(*, phone: str, user=None, address: str | None = None) -> int:
    """Take a phone off the stop list (a client's own opt-out stays: opt it in for that).

    The audit names the phone: which one may be messaged again is the point of the record.
    """
    phone = normalise_phone(phone)
    with transaction.atomic():
        removed, _by_model = StopListEntry.objects.filter(phone=phone).delete()
        if removed:
            audit.record(
                AuditKind.STOP_LIST_REMOVED, user=user, address=address, detail=f"phone={phone}"
            )
    return removed


@dataclass
class StopListImport:
    added: int = 0
    already: int = 0
    cancelled_messages: int = 0
    rejected: list[dict] = field(default_factory=list)
    rejected_count: int = 0
    read_as: str = ""


def import_stop_list(
    *,
    data: IO[bytes] | bytes,
    via: str,
    reason: str = "",
    user=None,
    address: str | None = None,
) -> StopListImport:
    """Phones from a CSV or XLSX file (as the client import reads them: any Excel CSV): the
    column headed phone/телефон, or the first column. Invalid rows are reported, valid ones
    added."""
    reason = _reason(reason)
    binary = io.BytesIO(data) if isinstance(data, bytes) else data
    result = StopListImport()
    numbers: list[str] = []
    with open_table(binary) as table:
        result.read_as = table.describe()
        header = [cell.strip() for cell in table.header]
        at = next((i for i, name in enumerate(header) if recognise(name) == "phone"), None)
        rows: Iterator = table.rows
        if at is None:
            at = 0
            if header and phone_error(normalise_phone(header[0])) is None:
                # No header, phones from the first row on.
                rows = itertools.chain([(1, table.header)], rows)
        for line, values in rows:
            raw = values[at].strip() if at < len(values) else ""
            if not raw:
                continue
            phone = normalise_phone(raw)
            problem = phone_error(phone)
            if problem:
                result.rejected_count += 1
                if len(result.rejected) < REPORT_LIMIT:
                    result.rejected.append({"line": line, "phone": raw[:40], "error": problem})
                continue
            numbers.append(phone)
    numbers = list(dict.fromkeys(numbers))
    if numbers:
        with transaction.atomic():
            result.added, result.cancelled_messages = _add(
                numbers, via=via, reason=reason, now=timezone.now()
            )
            _audit_added(
                len(numbers),
                result.added,
                result.cancelled_messages,
                via=via,
                user=user,
                address=address,
            )
    result.already = len(numbers) - result.added
    log.info(
        "stop list imported added=%d already=%d rejected=%d",
        result.added,
        result.already,
        result.rejected_count,
    )
    return result


def stop_list_rows() -> Iterator[list[str]]:
    """The stop list as a table (the header first): what its import reads back."""
    yield list(STOP_LIST_COLUMNS)
    entries = StopListEntry.objects.order_by("phone").values_list(
        "phone", "added_at", "via", "reason"
    )
    for phone, added_at, via, reason in entries.iterator(chunk_size=2000):
        yield [phone, added_at.isoformat(), via, reason]


__all__ = [
    "Via",
    "add_to_stop_list",
    "import_stop_list",
    "opt_in",
    "opt_out",
    "opt_out_phones",
    "remove_from_stop_list",
    "stop_list_rows",
]
