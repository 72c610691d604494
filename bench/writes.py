"""Scenario 4: the client import (CSV and XLSX), and target selection at scale."""

from __future__ import annotations

import io
import time
import tracemalloc
from datetime import timedelta

from bench.harness import BenchEnv, make_clients

ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Europe/Kaliningrad")


def csv_bytes(rows: int) -> bytes:
    lines = ["phone,operator_code,tag,timezone"]
    for i in range(rows):
        phone = f"79{i:09d}"
        lines.append(f"{phone},{phone[1:4]},tag{i % 7},{ZONES[i % len(ZONES)]}")
    return ("\n".join(lines) + "\n").encode()


def xlsx_bytes(rows: int) -> bytes:
    """An XLSX as Excel keeps one: Russian headers, the phone stored as a number."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Телефон", "Код оператора", "Тег", "Часовой пояс"])
    for i in range(rows):
        phone = 77_000_000_000 + i
        sheet.append([phone, str(phone)[1:4], f"tag{i % 7}", ZONES[i % len(ZONES)]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def big_csv(path, mib: int) -> int:
    """A CSV of `mib` MiB as Russian Excel writes it (Windows-1251, `;`, CRLF, Russian
    headers, a name and a custom field); returns its rows."""
    rows = 0
    with open(path, "wb") as out:
        out.write("Телефон;Имя;Тег;Часовой пояс;field:city\r\n".encode("cp1251"))
        while out.tell() < mib * 1024 * 1024:
            lines = [
                f"76{rows + i:09d};Анна Иванова;тег{i % 7};Москва;Казань\r\n" for i in range(10_000)
            ]
            out.write("".join(lines).encode("cp1251"))
            rows += len(lines)
    return rows


def writes(
    env: BenchEnv, *, csv_rows: int, targets: int, xlsx_rows: int = 20_000, big_mib: int = 20
) -> dict:
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

    workbook = xlsx_bytes(xlsx_rows)
    started = time.perf_counter()
    from_xlsx = services.import_clients(data=workbook)
    xlsx_s = time.perf_counter() - started
    assert from_xlsx.created == xlsx_rows, from_xlsx

    # Memory while importing a file at IMPORT_MAX_BYTES, read from disk as an upload is:
    # Python's allocations at their peak (tracemalloc), so not timed.
    path = env.workdir / "big.csv"
    big_rows = big_csv(path, big_mib)
    tracemalloc.start()
    with open(path, "rb") as upload:
        big = services.import_clients(data=upload)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert big.created == big_rows and big.rejected_count == 0, big
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
        "xlsx_rows": xlsx_rows,
        "xlsx_import_rows_per_s": round(xlsx_rows / xlsx_s),
        "big_csv_mib": big_mib,
        "big_csv_rows": big_rows,
        "big_csv_peak_python_mb": round(peak / 2**20, 1),
    }
