"""Scenario 4: CSV import through services.import_clients_csv, and target selection at scale."""

from __future__ import annotations

import time
from datetime import timedelta

from bench.harness import BenchEnv, make_clients

ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Europe/Kaliningrad")


def csv_bytes(rows: int) -> bytes:
    lines = ["phone,operator_code,tag,timezone"]
    for i in range(rows):
        phone = f"79{i:09d}"
        lines.append(f"{phone},{phone[1:4]},tag{i % 7},{ZONES[i % len(ZONES)]}")
    return ("\n".join(lines) + "\n").encode()


def writes(env: BenchEnv, *, csv_rows: int, targets: int) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from messaging import services
    from messaging.engine.lifecycle import select_targets
    from messaging.models import Client

    data = csv_bytes(csv_rows)
    started = time.perf_counter()
    result = services.import_clients_csv(data=data)
    import_s = time.perf_counter() - started
    assert result.created == csv_rows, result
    started = time.perf_counter()
    again = services.import_clients_csv(data=data)  # the same file: every row an update
    reimport_s = time.perf_counter() - started

    # Clients of operator 800 (phones 78...), the campaign's filter; the CSV ones are 900.
    make_clients(targets, prefix="78")
    assert Client.objects.filter(operator_code="800").count() == targets
    now = timezone.now()
    campaign = services.create_campaign(
        values={
            "text": "Targets",
            "operator_codes": ["800"],
            "start_at": now + timedelta(days=1),
            "end_at": now + timedelta(days=2),
        }
    )
    started = time.perf_counter()
    with transaction.atomic():
        created = select_targets(campaign, now)
    select_s = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        repeat = select_targets(campaign, now)
    repeat_s = time.perf_counter() - started
    return {
        "scenario": "writes",
        "db": env.db,
        "csv_rows": csv_rows,
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(csv_rows / import_s),
        "reimport_rows_per_s": round(csv_rows / reimport_s),
        "reimport_updated": again.updated,
        "targets": targets,
        "select_targets_s": round(select_s, 2),
        "messages_created": created,
        "select_again_s": round(repeat_s, 2),
        "created_again": repeat,
    }
