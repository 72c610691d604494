"""The benchmark figures computed from the local provider's reports, and the process monitor.

The benchmarks print these figures (they never assert); these tests make sure each
figure means what bench/README.md says it means.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from bench import figures
from bench.harness import TreeMonitor
from bench.run import main as bench_main
from localprovider import LocalProvider


def _request(msg_id: int, at: float) -> dict:
    return {"id": msg_id, "at": at, "status": 200, "outcome": "ok"}


def test_receipt_figures_count_msg_ids_accepted_more_than_once():
    receipts = {
        "receipts": {
            "1": {"count": 1},
            "2": {"count": 3},
            "3": {"count": 2},
        }
    }
    assert figures.receipt_figures(receipts) == {
        "receipts_unique": 3,
        "receipts_total": 6,
        "receipts_duplicated": 2,
        "max_receipts_per_msg": 3,
    }
    assert figures.accepted_ids(receipts) == {1, 2, 3}
    # Message 3 was accepted but the database says otherwise (say, expired).
    assert figures.accepted_recorded_otherwise(receipts, sent_ids={1, 2, 7}) == 1


def test_receipt_figures_of_the_real_provider():
    with LocalProvider(token="t") as provider:
        for msg_id in (5, 6, 6):
            requests.post(
                provider.send_url(msg_id),
                json={"id": msg_id, "phone": 79001234567, "text": "x"},
                headers={"Authorization": "Bearer t"},
                timeout=5,
            )
        assert figures.receipt_figures(provider.receipts())["receipts_duplicated"] == 1
        assert figures.accepted_ids(provider.receipts()) == {5, 6}


def test_requests_at_or_after_end_at_count_per_campaign_end():
    requests = [_request(1, 99.9), _request(1, 100.0), _request(2, 100.5), _request(9, 500)]
    # Message 1's campaign ends at 100, message 2's at 101; 9 is not part of the run.
    assert figures.requests_at_or_after(requests, {1: 100.0, 2: 101.0}) == 1


def test_first_pass_ends_at_the_first_request_of_the_last_message():
    requests = [
        _request(1, 10.0),
        _request(2, 10.5),
        _request(1, 11.0),  # a retry
        _request(3, 14.0),  # the last message's first request: a 3 s stall before it
        _request(2, 30.0),  # a retry after the first pass: not a stall
    ]
    first = figures.first_pass(requests)
    assert (first.started, first.ended, first.messages) == (10.0, 14.0, 3)
    assert first.longest_gap_s == 3.0
    assert first.rate == 3 / 4.0


def test_first_pass_of_nothing_is_none():
    assert figures.first_pass([]) is None


def test_max_in_any_second_slides_over_calendar_seconds():
    # Two calendar seconds of 3 each, but 5 fall inside one second (0.6 .. 1.4).
    times = [0.1, 0.6, 0.8, 1.0, 1.2, 1.4]
    assert figures.max_in_any_second(times) == 5
    assert figures.max_in_any_second([]) == 0


def test_per_second_timeline_shows_a_stall():
    assert figures.per_second([10.0, 10.2, 13.5, 13.9]) == [2, 0, 0, 2]
    assert figures.per_second([]) == []


def test_tree_monitor_counts_cpu_of_children_started_during_the_run():
    busy = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    spawn = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {busy!r}])"
    parent = subprocess.Popen([sys.executable, "-c", spawn])
    monitor = TreeMonitor(parent.pid, interval=0.02).start()
    parent.wait(timeout=30)
    used = monitor.stop()
    # The child's 0.3 s of CPU was seen although it started after the monitor and exited.
    assert used["cpu_s"] >= 0.2
    assert used["processes"] >= 2
    assert used["peak_rss_mb"] > 1


def test_tree_monitor_of_this_process_has_a_peak_rss():
    monitor = TreeMonitor(os.getpid(), interval=0.05).start()
    result = monitor.stop()
    assert result["peak_rss_mb"] > 1
    assert result["cpu_s"] >= 0


def test_runner_rejects_an_unknown_scenario_and_a_bad_override(capsys):
    with pytest.raises(SystemExit):
        bench_main(["--scenario", "nonsense"])
    assert "unknown scenario" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_main(["--scenario", "latency", "--set", "count"])
    assert "NAME=VALUE" in capsys.readouterr().err


def test_an_earlier_runs_figures_are_printed_beside_this_runs(tmp_path, capsys):
    from bench.report import load_results, print_table, table_rows

    saved = tmp_path / "before.log"
    saved.write_text(
        "--- throughput on sqlite {'count': 10000}\n"
        "    some log line\n"
        '{"scenario": "throughput", "db": "sqlite", "rate": 1866.0}\n'
        "BENCH_JSON " + '{"scenario": "latency", "db": "sqlite", "rate": 295.0}\n'
        "{not json\n"
    )
    before = load_results(str(saved))
    assert set(before) == {("throughput", "sqlite"), ("latency", "sqlite")}
    results = [{"scenario": "throughput", "db": "sqlite", "rate": 2100.0, "vs_bare": 0.9}]
    rows = table_rows(results, before)
    assert rows == [
        ("throughput", "sqlite", "msg/s end to end (20 ms latency)", "2,100", "1,866", ">= 1200"),
        ("throughput", "sqlite", "engine / bare loop", "0.9", "", ">= 0.8"),
    ]
    print_table(results, full=False, before=before)
    assert "before" in capsys.readouterr().out.splitlines()[2]


def test_runner_rejects_a_missing_before_file(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench_main(["--scenario", "latency", "--before", str(tmp_path / "missing.log")])
    assert "--before" in capsys.readouterr().err


def test_runner_overrides_reach_only_the_scenarios_that_take_them(monkeypatch, capsys):
    import bench.run

    spawned = []

    def spawn(db, scenario, params, extra_env):
        spawned.append((db, scenario, params))
        return {"scenario": scenario, "db": db}

    monkeypatch.setattr(bench.run, "spawn", spawn)
    monkeypatch.delenv("BENCH_FULL", raising=False)
    argv = ["--db", "sqlite", "--scenario", "latency", "--scenario", "start_latency"]
    argv += ["--count", "300", "--set", "latency_ms=100", "--set", "scheduled=2"]
    assert bench_main(argv) == 0
    assert spawned == [
        ("sqlite", "latency", {"count": 300, "latency_ms": 100}),
        ("sqlite", "start_latency", {"in_window": 3, "scheduled": 2}),
    ]


def test_tenths_give_the_rate_over_each_tenth_of_the_messages():
    from bench.million import tenths

    # 1,000 messages: 100 msg/s for the first half, then 50 msg/s (a decaying rate).
    timeline = [(float(t), 100 * t) for t in range(6)] + [
        (5.0 + t, 500 + 50 * t) for t in (2, 4, 6, 8, 10)
    ]
    rates = tenths(timeline, 1000)
    assert rates == [100.0] * 5 + [50.0] * 5
    assert tenths([(0.0, 0), (1.0, 0)], 1000) == [0.0] * 10  # nothing sent: no rate
