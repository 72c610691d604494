"""Multi-step operations that both the web UI and the REST API call.

One function per operation, keyword-only arguments. Each either completes or
raises django's ValidationError having changed nothing.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from messaging import scheduling
from messaging.models import (
    UNSENT_STATUSES,
    Campaign,
    CampaignCounts,
    CampaignStatus,
    Client,
    Message,
    MessageStatus,
)
from messaging.models.campaigns import EDITABLE_AFTER_START, FILTER_FIELDS
from messaging.models.stats import move_messages
from messaging.validators import known_timezones

log = logging.getLogger(__name__)


# --- Clients -----------------------------------------------------------------


def delete_client(*, client: Client) -> None:
    """Delete a client: its unsent messages are cancelled, its sent history stays counted."""
    with transaction.atomic():
        cancelled = move_messages(
            Message.objects.filter(client=client),
            UNSENT_STATUSES,
            MessageStatus.CANCELLED,
            last_error="Client deleted",
        )
        client_id = client.pk
        client.delete()
    log.info("client deleted client_id=%s cancelled_messages=%d", client_id, cancelled)


CSV_COLUMNS = ("phone", "operator_code", "tag", "timezone")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): the
# export puts an apostrophe before such a value, and the import takes it off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def from_spreadsheet_safe(value: str) -> str:
    """Undo `spreadsheet_safe`, so an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


@dataclass
class RowError:
    line: int
    phone: str
    errors: dict[str, list[str]]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rejected: list[RowError] = field(default_factory=list)
    imported: bool = True

    @property
    def total_rows(self) -> int:
        return self.created + self.updated + len(self.rejected)


class MalformedFile(ValidationError):
    """The file as a whole cannot be read as the expected CSV."""


def _read_csv_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedFile({"file": [_("The file is not UTF-8 text.")]}) from None
    if not text.strip():
        raise MalformedFile({"file": [_("The file is empty.")]})
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in ("phone", "timezone") if c not in header]
        unknown = [c for c in header if c not in CSV_COLUMNS]
        if missing or unknown:
            problems = []
            if missing:
                problems.append(
                    _("missing column(s): %(columns)s") % {"columns": ", ".join(missing)}
                )
            if unknown:
                problems.append(
                    _("unknown column(s): %(columns)s") % {"columns": ", ".join(unknown)}
                )
            raise MalformedFile(
                {
                    "file": [
                        _("Header must be %(header)s: %(problems)s")
                        % {"header": ",".join(CSV_COLUMNS), "problems": "; ".join(problems)}
                    ]
                }
            )
        rows = []
        for values in reader:
            if not values or all(not v.strip() for v in values):
                continue
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise MalformedFile(
            {"file": [_("Line %(line)s: %(error)s") % {"line": reader.line_num, "error": exc}]}
        ) from None
    parsed = []
    for line, values in rows:
        if len(values) != len(header):
            parsed.append((line, {"__columns__": f"{len(values)}"}))
            continue
        parsed.append(
            (
                line,
                {h: from_spreadsheet_safe(v.strip()) for h, v in zip(header, values, strict=True)},
            )
        )
    return parsed


def _validate_row(row: dict[str, str], header_len: int) -> dict[str, list[str]]:
    if "__columns__" in row:
        return {
            "row": [
                _("Expected %(expected)s values, found %(found)s.")
                % {"expected": header_len, "found": row["__columns__"]}
            ]
        }
    errors: dict[str, list[str]] = {}
    phone = row.get("phone", "")
    if len(phone) != 11 or not phone.isdigit() or phone[0] != "7":
        errors["phone"] = [_("Phone must be 11 digits starting with 7 (7XXXXXXXXXX).")]
    code = row.get("operator_code", "")
    if code and (len(code) != 3 or not code.isdigit()):
        errors["operator_code"] = [_("Operator code must be exactly 3 digits.")]
    if len(row.get("tag", "")) > 100:
        errors["tag"] = [_("Tag must be at most 100 characters.")]
    if row.get("timezone", "") not in known_timezones():
        errors["timezone"] = [
            _("%(value)r is not a known IANA time zone.") % {"value": row.get("timezone", "")}
        ]
    return errors


def import_clients_csv(*, data: bytes, skip_invalid_rows: bool = False) -> ImportResult:
    """Upsert clients by phone from CSV (`phone,operator_code,tag,timezone`).

    A malformed file raises MalformedFile. With invalid rows, nothing is saved
    unless `skip_invalid_rows` is set, in which case the valid rows are saved.
    Either way every rejected row is reported with its reasons.
    """
    rows = _read_csv_rows(data)
    result = ImportResult()
    clean: dict[str, dict[str, str]] = {}
    first_line: dict[str, int] = {}
    for line, row in rows:
        errors = _validate_row(row, len(CSV_COLUMNS))
        phone = row.get("phone", "")
        if not errors and phone in clean:
            errors = {
                "phone": [
                    _("Phone repeated; first seen on line %(line)s.") % {"line": first_line[phone]}
                ]
            }
        if errors:
            result.rejected.append(RowError(line=line, phone=phone, errors=errors))
            continue
        first_line[phone] = line
        clean[phone] = {
            "operator_code": row.get("operator_code") or Client.default_operator_code(phone),
            "tag": row.get("tag", ""),
            "timezone": row["timezone"],
        }
    if result.rejected and not skip_invalid_rows:
        result.imported = False
        return result

    with transaction.atomic():
        result.created = _upsert_clients(clean)
    result.updated = len(clean) - result.created
    log.info(
        "clients imported created=%d updated=%d rejected=%d",
        result.created,
        result.updated,
        len(result.rejected),
    )
    return result


UPSERT_BATCH = 1000  # SQLite: rows per statement (6,000 parameters, inside its limit)
UPSERT_CONFLICT = (
    " ON CONFLICT (phone) DO UPDATE SET operator_code = excluded.operator_code, "
    "tag = excluded.tag, timezone = excluded.timezone, updated_at = excluded.updated_at"
)


def _upsert_clients(rows: dict[str, dict[str, str]]) -> int:
    """INSERT ... ON CONFLICT (phone) DO UPDATE in a few statements; returns how many are new.

    Rows were validated above; going around the ORM's per-object work makes a
    100,000-row import several times faster. PostgreSQL takes the columns as four
    arrays (unnest), SQLite a thousand-row VALUES list per statement.
    """
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    table = Client._meta.db_table
    columns = "(phone, operator_code, tag, timezone, created_at, updated_at)"
    items = list(rows.items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} {columns} "  # noqa: S608 (table from the model)
                "SELECT p, o, t, z, %s, %s FROM unnest(%s::text[], %s::text[], %s::text[], "
                "%s::text[]) AS u(p, o, t, z)"
                + UPSERT_CONFLICT
                +
                # xmax is 0 on a row this statement inserted, not on one it updated.
                " RETURNING (xmax = 0)",
                [
                    stamp,
                    stamp,
                    [phone for phone, _ in items],
                    [v["operator_code"] for _, v in items],
                    [v["tag"] for _, v in items],
                    [v["timezone"] for _, v in items],
                ],
            )
            return sum(1 for (inserted,) in cursor.fetchall() if inserted)
        phones = [phone for phone, _ in items]
        existing = 0
        for start in range(0, len(phones), 5000):
            existing += Client.objects.filter(phone__in=phones[start : start + 5000]).count()
        for start in range(0, len(items), UPSERT_BATCH):
            batch = items[start : start + UPSERT_BATCH]
            params = []
            for phone, v in batch:
                params += [phone, v["operator_code"], v["tag"], v["timezone"], stamp, stamp]
            cursor.execute(
                f"INSERT INTO {table} {columns} VALUES "  # noqa: S608 (table from the model)
                + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch))
                + UPSERT_CONFLICT,
                params,
            )
        return len(items) - existing


# --- Campaigns -----------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    """The campaign's row, locked until the transaction ends.

    A 404 if it was deleted since the caller read it (a concurrent DELETE), not a 500.
    """
    return get_object_or_404(Campaign.objects.select_for_update(), pk=campaign.pk)


def create_campaign(*, values: dict, user=None) -> Campaign:
    campaign = Campaign(**values, created_by=user if user and user.is_authenticated else None)
    campaign.full_clean(exclude=["created_by"])
    if campaign.end_at <= timezone.now():
        raise ValidationError({"end_at": [_("The end is already past: nothing could be sent.")]})
    with transaction.atomic():
        campaign.save()
        CampaignCounts.objects.create(campaign=campaign)
        scheduling.campaign_saved(campaign)
    log.info(
        "campaign created campaign_id=%s start_at=%s end_at=%s",
        campaign.pk,
        campaign.start_at.isoformat(),
        campaign.end_at.isoformat(),
    )
    return campaign


def update_campaign(*, campaign: Campaign, values: dict) -> Campaign:
    """Apply an edit. After start only text, end, name and send window may change.

    Moving the end later gives the expired messages another chance (they are unsent, and
    the edit applies to unsent messages): they wait again, and a finished campaign runs
    again to send them.
    """
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status == CampaignStatus.CANCELLED:
            raise ValidationError(
                {"status": [_("The campaign is cancelled; it can no longer be edited.")]}
            )
        old_end = campaign.end_at
        changed = {k: v for k, v in values.items() if getattr(campaign, k) != v}
        if campaign.has_started:
            refused = [f for f in changed if f not in EDITABLE_AFTER_START]
            if refused:
                errors = {}
                for f in refused:
                    why = (
                        _(
                            "The filter cannot change once the campaign has started; "
                            "its messages were already selected."
                        )
                        if f in FILTER_FIELDS
                        else _("This field cannot change once the campaign has started.")
                    )
                    errors[f] = [why]
                raise ValidationError(errors)
        for key, value in changed.items():
            setattr(campaign, key, value)
        campaign.full_clean(exclude=["created_by"])
        campaign.save()
        revived = 0
        now = timezone.now()
        if campaign.has_started and campaign.end_at > max(old_end, now):
            # The expiry's reason no longer holds.
            revived = _send_again(campaign, MessageStatus.EXPIRED, now, last_error="")
            if revived:
                changed["status"] = campaign.status
        scheduling.campaign_saved(campaign, changed=set(changed))
    log.info(
        "campaign edited campaign_id=%s fields=%s expired_messages_pending_again=%d",
        campaign.pk,
        ",".join(sorted(changed)),
        revived,
    )
    return campaign


class TransitionRefused(ValidationError):
    """A lifecycle action not allowed in the campaign's current status."""


def pause_campaign(*, campaign: Campaign) -> Campaign:
    return _transition(
        campaign,
        allowed_from=(CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
        to=CampaignStatus.PAUSED,
        verb=pgettext_lazy("cannot be …", "paused"),
    )


def resume_campaign(*, campaign: Campaign) -> Campaign:
    with transaction.atomic():
        current = _locked(campaign)
        target = CampaignStatus.RUNNING if current.has_started else CampaignStatus.SCHEDULED
        return _transition(
            current,
            allowed_from=(CampaignStatus.PAUSED,),
            to=target,
            verb=pgettext_lazy("cannot be …", "resumed"),
        )


def cancel_campaign(*, campaign: Campaign, reason: str = "Campaign cancelled") -> Campaign:
    return _transition(
        campaign,
        allowed_from=(CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED),
        to=CampaignStatus.CANCELLED,
        verb=pgettext_lazy("cannot be …", "cancelled"),
        reason=reason,
    )


def _transition(
    campaign: Campaign, *, allowed_from, to: str, verb: str, reason: str = ""
) -> Campaign:
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status not in allowed_from:
            refusal = _("A %(status)s campaign cannot be %(done)s.") % {
                "status": campaign.get_status_display().lower(),
                "done": verb,
            }
            raise TransitionRefused({"status": [refusal]})
        previous = campaign.status
        campaign.status = to
        update_fields = ["status", "updated_at"]
        if to == CampaignStatus.CANCELLED:
            campaign.finished_at = timezone.now()
            update_fields.append("finished_at")
            move_messages(
                campaign.messages.all(),
                UNSENT_STATUSES,
                MessageStatus.CANCELLED,
                last_error=reason,
            )
        campaign.save(update_fields=update_fields)
        scheduling.campaign_saved(campaign, changed={"status"})
    log.info("campaign %s campaign_id=%s from=%s to=%s", verb, campaign.pk, previous, to)
    return campaign


def retry_failed_messages(*, campaign: Campaign) -> int:
    """Send the failed messages of a campaign again (before its end); returns how many."""
    with transaction.atomic():
        campaign = _locked(campaign)
        now = timezone.now()
        if campaign.status == CampaignStatus.CANCELLED:
            raise TransitionRefused({"status": [_("A cancelled campaign cannot retry messages.")]})
        if campaign.end_at <= now:
            raise TransitionRefused({"end_at": [_("The campaign has ended; extend it first.")]})
        moved = _send_again(campaign, MessageStatus.FAILED, now)
        scheduling.campaign_saved(campaign, changed={"status"})
    log.info("failed messages queued again campaign_id=%s count=%d", campaign.pk, moved)
    return moved


def _send_again(campaign: Campaign, status: str, now, **fields) -> int:
    """Queue the campaign's messages in `status` again; a finished campaign runs again."""
    moved = move_messages(
        campaign.messages.all(),
        [status],
        MessageStatus.PENDING,
        next_attempt_at=now,
        lease_token=None,
        **fields,
    )
    if moved and campaign.status == CampaignStatus.FINISHED:
        campaign.status = CampaignStatus.RUNNING
        campaign.finished_at = None
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
    return moved


def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign; a running one is cancelled first so no worker keeps sending."""
    if campaign.is_active:
        cancel_campaign(campaign=campaign, reason="Campaign deleted")
    campaign_id = campaign.pk
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign_id).delete()
        scheduling.campaign_deleted(campaign_id)
    log.info("campaign deleted campaign_id=%s", campaign_id)
