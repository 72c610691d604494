"""The engine's database work per message does not grow with the batch or the table: a
flush of sent messages is one UPDATE of the messages and one INSERT of their attempts."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.engine import claims, recording
from messaging.engine.outcomes import Outcome
from messaging.models import CampaignCounts, DeliveryAttempt, Message, MessageStatus
from messaging.provider import ProviderResult, Verdict
from tests.engine.conftest import make_clients, running_campaign

pytestmark = pytest.mark.django_db


def statements(captured, verb: str, table: str) -> int:
    """Statements sent (an executemany is one, logged as "N times: <sql>")."""
    found = 0
    for query in captured.captured_queries:
        sql = re.sub(r"^\d+ times: ", "", query["sql"].lstrip())
        found += sql.upper().startswith(verb) and f'"{table}"' in sql
    return found


def answered(job, verdict=Verdict.SENT, outcome="ok", http_status=200, **more) -> Outcome:
    result = ProviderResult(
        verdict=verdict,
        outcome=outcome,
        started_at=timezone.now(),
        duration_ms=20,
        http_status=http_status,
        **more,
    )
    return Outcome(job, result=result)


def accepted(job) -> Outcome:
    return answered(job, excerpt='{"code": 0}')


@pytest.mark.parametrize("size", [3, 120])
def test_a_flush_of_sent_messages_is_one_update_and_one_insert_whatever_its_size(size):
    make_clients(size)
    campaign = running_campaign()
    token = uuid.uuid4()
    jobs = claims.claim(campaign.pk, token=token, now=timezone.now(), limit=size)
    assert len(jobs) == size
    with CaptureQueriesContext(connection) as captured:
        recording.record(
            [accepted(job) for job in jobs],
            token=token,
            clock=timezone.now,
            retry_until=time.monotonic() + 30,
        )
    assert statements(captured, "UPDATE", Message._meta.db_table) == 1
    assert statements(captured, "INSERT", DeliveryAttempt._meta.db_table) == 1
    if connection.vendor == "postgresql":
        # One statement on the server too, not an executemany of one INSERT per row.
        inserts = [q["sql"] for q in captured.captured_queries if "deliveryattempt" in q["sql"]]
        assert not any(re.match(r"\d+ times: ", sql) for sql in inserts)
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == size
    assert DeliveryAttempt.objects.filter(message__campaign=campaign).count() == size
    attempt = DeliveryAttempt.objects.filter(message__campaign=campaign).first()
    assert (attempt.outcome, attempt.http_status, attempt.duration_ms) == ("ok", 200, 20)
    assert attempt.response_excerpt == '{"code": 0}'
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.sent, counts.sending, counts.pending) == (size, 0, 0)


def test_a_send_accepted_after_its_message_moved_on_is_still_recorded_sent_once():
    """The single UPDATE covers the usual case; messages that others moved meanwhile
    (here: cancelled while in flight) still become sent, each counted once."""
    make_clients(4)
    campaign = running_campaign()
    token = uuid.uuid4()
    jobs = claims.claim(campaign.pk, token=token, now=timezone.now(), limit=4)
    moved = Message.objects.filter(pk=jobs[0].message_id)
    from messaging.models.counters import move_messages

    move_messages(moved, [MessageStatus.SENDING], MessageStatus.CANCELLED)
    recording.record(
        [accepted(job) for job in jobs],
        token=token,
        clock=timezone.now,
        retry_until=time.monotonic() + 30,
    )
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.sent, counts.cancelled, counts.sending) == (4, 0, 0)
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 4


def test_a_sender_renews_its_leases_through_an_index_of_its_own_token():
    """Renewing leases every few seconds must not walk every message ever in flight."""
    index = next(i for i in Message._meta.indexes if i.name == "message_sending_token")
    assert index.fields == ["lease_token"]
    assert index.condition.children == [("status", MessageStatus.SENDING)]
    make_clients(3)
    campaign = running_campaign()
    token = uuid.uuid4()
    claims.claim(campaign.pk, token=token, now=timezone.now(), limit=3)
    assert claims.renew_leases(token=token, now=timezone.now()) == 3
    assert claims.renew_leases(token=uuid.uuid4(), now=timezone.now()) == 0


def message_updates(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("UPDATE")
        and f'"{Message._meta.db_table}"' in q["sql"].split("SET")[0]
    ]


# `id__among` (messaging/models/idlists.py) as each database writes it.
ID_LIST_CONDITION = (
    r'"messaging_message"\."id" '
    r"(= ANY\('\{[\d,]+\}'(::int[248]\[\])?::bigint\[\]\)"
    r"|IN \(SELECT value FROM json_each\('\[[\d, ]+\]'\)\))"
)


def test_a_list_of_ids_is_one_parameter_however_long():
    """Hundreds of ids per claim and record: one value to prepare and bind, not one each."""
    make_clients(5)
    campaign = running_campaign()
    ids = list(Message.objects.filter(campaign=campaign).values_list("id", flat=True))
    listed = Message.objects.filter(id__among={*ids[:3], 10**12, *range(10**9, 10**9 + 500)})
    sql, params = listed.values_list("id").query.sql_with_params()
    assert len(params) == 1, sql
    assert sorted(listed.values_list("id", flat=True)) == ids[:3]
    assert not Message.objects.filter(id__among=set()).exists()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "USING INTEGER PRIMARY KEY" in plan, plan


def test_claims_and_records_name_their_messages_by_id_alone():
    """A condition on the campaign or the status lets PostgreSQL's planner walk an index
    range of the campaign (every message pending, or every one ever in flight) instead
    of the primary key; the rows are locked and their statuses read first instead."""
    make_clients(30)
    campaign = running_campaign()
    token = uuid.uuid4()
    with CaptureQueriesContext(connection) as captured:
        jobs = claims.claim(campaign.pk, token=token, now=timezone.now(), limit=30)
        outcomes = [accepted(job) for job in jobs[:20]]
        outcomes += [
            answered(job, Verdict.PERMANENT, "rejected", 400, reason="rejected")
            for job in jobs[20:]
        ]
        recording.record(
            outcomes, token=token, clock=timezone.now, retry_until=time.monotonic() + 30
        )
    updates = message_updates(captured)
    assert len(updates) == 3  # claimed, sent, failed
    for sql in updates:
        where = sql.split(" WHERE ", 1)[1]
        assert re.fullmatch(ID_LIST_CONDITION, where), where
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert (counts.sent, counts.failed, counts.sending, counts.pending) == (20, 10, 0, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_a_claim_on_a_table_never_analyzed_finds_its_rows_by_primary_key():
    """Statistics older than the campaign (no ANALYZE since its messages were created, as
    with autovacuum off) must not send the claim through the campaign's index range."""
    make_clients(3000)
    campaign = running_campaign()
    with CaptureQueriesContext(connection) as captured:
        claims.claim(campaign.pk, token=uuid.uuid4(), now=timezone.now(), limit=200)
    [update] = message_updates(captured)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + update)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "message_campaign_status" not in plan, plan
    assert "message_pending_due" not in plan, plan


def test_an_attempt_row_writes_one_index_by_message():
    """`attempt_message_started` serves every lookup by message: a second index on the
    message alone only cost a write per request."""
    table = DeliveryAttempt._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    by_message = sorted(
        name
        for name, c in constraints.items()
        if c["index"] and c["columns"] and c["columns"][0] == "message_id"
    )
    assert by_message == ["attempt_message_started"]
