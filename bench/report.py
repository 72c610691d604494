"""The summary table printed after a run: one row per scenario and database."""

from __future__ import annotations

import json


def _fmt(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# (scenario, figure key, label, target text)
FIGURES = [
    ("throughput", "rate", "msg/s end to end (20 ms latency)", ">= 1200"),
    ("throughput", "send_phase_rate", "  msg/s from the first request to the last", ""),
    ("throughput", "first_request_s", "  creation -> first request s", ""),
    ("throughput", "bare_rate", "bare loop msg/s (same transport, no database)", ""),
    ("throughput", "single_rate", "one-at-a-time loop msg/s", ""),
    ("throughput", "vs_bare", "engine / bare loop", ">= 0.8"),
    ("throughput", "vs_single", "engine / one-at-a-time", ">= 25"),
    ("throughput", "cluster_cpu_ms_per_msg", "cluster CPU ms per message", ""),
    ("throughput", "bare_cpu_ms_per_msg", "bare loop CPU ms per message", ""),
    ("throughput", "provider_cpu_ms_per_msg", "provider CPU ms per message", ""),
    ("throughput", "machine_busy_cores", "machine busy cores, engine run", ""),
    ("throughput", "bare_machine_busy_cores", "machine busy cores, bare loop", ""),
    ("throughput", "rate_log_warning", "msg/s with LOG_LEVEL=WARNING", ""),
    ("throughput", "vs_bare_log_warning", "  / bare loop", ""),
    ("throughput", "cluster_cpu_ms_per_msg_log_warning", "  cluster CPU ms per message", ""),
    ("throughput", "worker_peak_rss_mb", "worker peak RSS MB", "<= 250"),
    ("throughput", "provider_cpu_share", "provider CPU, share of one core", "< 1"),
    ("throughput", "receipts_duplicated", "msgIds received twice", "0"),
    ("throughput", "requests_after_end_at", "requests at or after end_at", "0"),
    ("latency", "rate", "msg/s end to end (200 +- 50 ms latency)", ">= 2000"),
    ("latency", "send_phase_rate", "  msg/s from the first request to the last", ""),
    ("latency", "first_request_s", "  creation -> first request s", ""),
    ("latency", "bare_rate", "bare loop msg/s (same transport, no database)", ""),
    ("latency", "vs_bare", "engine / bare loop", ">= 0.8"),
    ("latency", "cluster_cpu_ms_per_msg", "cluster CPU ms per message", ""),
    ("latency", "bare_cpu_ms_per_msg", "bare loop CPU ms per message", ""),
    ("latency", "worker_peak_rss_mb", "worker peak RSS MB", "<= 250"),
    ("latency", "provider_cpu_share", "provider CPU, share of one core", "< 1"),
    ("latency", "receipts_unique", "receipts: msgIds accepted", "= messages"),
    ("latency", "receipts_total", "receipts: total", "= messages"),
    ("latency", "receipts_duplicated", "receipts: msgIds received twice", "0"),
    ("latency", "requests_after_end_at", "requests at or after end_at", "0"),
    ("hangs", "rate", "msg/s end to end, 3% hanging 30 s", ""),
    ("hangs", "fault_free_rate", "msg/s end to end, fault-free (same run)", ""),
    ("hangs", "vs_fault_free", "end to end: hangs / fault-free", ""),
    ("hangs", "first_pass_rate", "first pass msg/s, 3% hanging", ""),
    ("hangs", "fault_free_first_pass_rate", "first pass msg/s, fault-free", ""),
    ("hangs", "first_pass_vs_fault_free", "first pass: hangs / fault-free", ">= 0.5"),
    ("hangs", "longest_gap_s", "longest gap with no request (first pass) s", ""),
    ("hangs", "fault_free_longest_gap_s", "  the same, fault-free s", ""),
    ("hangs", "cluster_cpu_ms_per_msg", "cluster CPU ms per message", ""),
    ("hangs", "worker_peak_rss_mb", "worker peak RSS MB", "<= 250"),
    ("hangs", "receipts_duplicated", "msgIds received twice", "0"),
    ("hangs", "requests_after_end_at", "requests at or after end_at", "0"),
    ("million", "minutes", "minutes end to end (200 ms latency)", "< 10"),
    ("million", "rate", "msg/s end to end", ">= 1700"),
    ("million", "rate_per_tenth", "msg/s over each tenth of the messages", ""),
    ("million", "slowest_tenth_vs_first", "slowest tenth / first tenth", ">= 0.8"),
    ("million", "import_s", "import through the API s", ""),
    ("million", "create_s", "campaign created through the API s", ""),
    ("million", "pages_p50_p95", "pages while sending: p50 / p95 ms", ""),
    ("million", "worst_page_p95_ms", "worst page p95 ms while sending", "<= 100"),
    ("million", "page_errors", "page errors", "0"),
    ("million", "cluster_cpu_ms_per_msg", "cluster CPU ms per message", ""),
    ("million", "worker_peak_rss_mb", "worker peak RSS MB", "<= 250"),
    ("million", "receipts_unique", "receipts: msgIds accepted", "= messages"),
    ("million", "receipts_duplicated", "receipts: msgIds received twice", "0"),
    ("million", "accepted_recorded_otherwise", "accepted but recorded otherwise", "0"),
    ("million", "not_applicable", "a million messages (PostgreSQL only)", ""),
    ("start_latency", "in_window_max_s", "in-window: creation -> 1st request s (max)", "<= 2"),
    ("start_latency", "in_window_median_s", "in-window: median s", ""),
    ("start_latency", "scheduled_max_s", "scheduled: start_at -> 1st request s (max)", "<= 1"),
    ("start_latency", "scheduled_median_s", "scheduled: median s", ""),
    ("start_latency", "missed", "samples with no request", "0"),
    ("reads", "worst_median_ms", "worst median of the pages ms", "<= 50"),
    ("reads", "worst_p95_ms", "worst p95 of the pages ms", "<= 100"),
    ("reads", "errors", "errors", "0"),
    ("reads", "web_peak_rss_mb", "web process peak RSS MB", ""),
    ("writes", "import_rows_per_s", "CSV import rows/s (new clients)", ">= 20000"),
    ("writes", "reimport_rows_per_s", "CSV re-import rows/s (all updates)", ""),
    ("writes", "select_targets_s", "select_targets s", "<= 20"),
    ("writes", "xlsx_import_rows_per_s", "XLSX import rows/s (phones as numbers)", ""),
    ("writes", "big_csv_rows", "rows of a 20 MiB Windows-1251 CSV", ""),
    ("writes", "big_csv_peak_python_mb", "  its import: peak Python memory MB", ""),
    ("faults", "campaigns", "campaigns at once", ">= 3"),
    ("faults", "sent", "sent", ""),
    ("faults", "failed", "failed", ""),
    ("faults", "expired", "expired", ""),
    ("faults", "lost", "lost", "0"),
    ("faults", "sent_twice", "sent twice (msgIds accepted twice)", "0"),
    ("faults", "accepted_recorded_otherwise", "accepted but recorded otherwise", "0"),
    ("faults", "requests_after_end_at", "requests at or after end_at", "0"),
    ("faults", "short_campaign_expired", "short-deadline campaign: expired", ""),
    ("faults", "recorded_sent_twice", "recorded sent twice (ok attempts)", "0"),
    ("faults", "counters_match_rows", "counters match rows", "True"),
    ("faults", "max_requests_per_s", "most requests in any second", "<= rate cap"),
    ("faults", "rate_limit", "  rate cap (PROVIDER_RATE_LIMIT)", ""),
    ("faults", "database_errors", "database errors in the worker logs", "0"),
    ("faults", "worker_peak_rss_mb", "worker peak RSS MB", "<= 250"),
    ("crash", "in_flight_at_kill", "in flight at kill", ""),
    ("crash", "sent_twice", "sent twice (msgIds accepted twice)", "<= in flight"),
    ("crash", "accepted_recorded_otherwise", "accepted but recorded otherwise", "0"),
    ("crash", "all_sent", "every message sent", "True"),
    ("crash", "recorded_sent_twice", "recorded sent twice (ok attempts)", "0"),
    ("crash", "counters_match_rows", "counters match rows", "True"),
    ("crash", "seconds_kill_to_finished", "kill -> finished s", ""),
    ("crash", "worker_peak_rss_mb", "worker peak RSS MB (both clusters)", "<= 250"),
    ("db_outage", "in_flight_at_cut_20s", "20 s outage: in flight when cut", ""),
    ("db_outage", "sent_twice_20s", "  sent twice (msgIds accepted twice)", "0"),
    ("db_outage", "accepted_recorded_otherwise_20s", "  accepted but recorded otherwise", "0"),
    ("db_outage", "lost_20s", "  lost", "0"),
    ("db_outage", "counters_match_rows_20s", "  counters match rows", "True"),
    ("db_outage", "requests_during_outage_20s", "  requests during the outage", "0"),
    ("db_outage", "processes_alive_20s", "  every process alive throughout", "True"),
    ("db_outage", "seconds_back_to_finished_20s", "  back -> finished s", ""),
    ("db_outage", "in_flight_at_cut_120s", "120 s outage: in flight when cut", ""),
    ("db_outage", "sent_twice_120s", "  sent twice (msgIds accepted twice)", "0"),
    ("db_outage", "accepted_recorded_otherwise_120s", "  accepted but recorded otherwise", "0"),
    ("db_outage", "lost_120s", "  lost", "0"),
    ("db_outage", "counters_match_rows_120s", "  counters match rows", "True"),
    ("db_outage", "requests_during_outage_120s", "  requests during the outage", "0"),
    ("db_outage", "processes_alive_120s", "  every process alive throughout", "True"),
    ("db_outage", "seconds_back_to_finished_120s", "  back -> finished s", ""),
    ("db_outage", "held_results_recorded", "results held, then recorded (metrics)", ""),
    ("db_outage", "outage_log_lines", "log lines about the outages", ""),
    ("db_outage", "tracebacks", "tracebacks in the worker log", "0"),
    ("db_outage", "not_applicable", "database outage", ""),
    ("sigterm", "in_flight_at_signal", "in flight at SIGTERM to the group", ""),
    ("sigterm", "exit_s", "SIGTERM -> exit s", "<= 30"),
    ("sigterm", "left_sending", "left sending", "0"),
    ("sigterm", "sent_twice", "sent twice (msgIds accepted twice)", "0"),
    ("sigterm", "accepted_recorded_otherwise", "accepted but recorded otherwise", "0"),
    ("sigterm", "lost", "lost", "0"),
    ("sigterm", "all_sent", "every message sent after a restart", "True"),
    ("sigterm", "counters_match_rows", "counters match rows", "True"),
    ("sigterm", "tracebacks", "tracebacks in the worker logs", "0"),
    ("fuzz", "server_errors", "server errors", "0"),
    ("fuzz", "schema_violations", "responses violating the schema", "0"),
    ("fuzz", "failures_by_kind", "all failures by kind", ""),
    ("load", "errors", "errors", "0"),
    ("load", "p50_ms", "p50 ms", ""),
    ("load", "p99_ms", "p99 ms", ""),
    ("load", "requests_per_s", "requests/s", ""),
    ("load", "campaign_msgs_per_s_under_load", "campaign msg/s meanwhile", ""),
]


def load_results(path: str) -> dict[tuple[str, str], dict]:
    """Results of an earlier run from its saved output: every line that is a JSON object
    with a scenario and a database (what `python -m bench` prints as each one finishes)."""
    found = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("BENCH_JSON "):
                line = line[len("BENCH_JSON ") :]
            if not line.startswith("{"):
                continue
            try:
                result = json.loads(line)
            except ValueError:
                continue
            if isinstance(result, dict) and "scenario" in result and "db" in result:
                found[(result["scenario"], result["db"])] = result
    return found


def table_rows(
    results: list[dict], before: dict[tuple[str, str], dict] | None = None
) -> list[tuple[str, ...]]:
    rows = []
    for result in results:
        scenario, db = result.get("scenario"), result.get("db")
        if "error" in result:
            rows.append((scenario, db, "ERROR", result["error"][:60], "", ""))
            continue
        earlier = (before or {}).get((scenario, db), {})
        for fs, key, label, target in FIGURES:
            if fs == scenario and key in result:
                was = _fmt(earlier[key]) if key in earlier else ""
                rows.append((scenario, db, label, _fmt(result[key]), was, target))
    return rows


def print_table(
    results: list[dict], *, full: bool, before: dict[tuple[str, str], dict] | None = None
) -> None:
    """One row per figure; with `before` (an earlier run), its value beside each one."""
    rows = table_rows(results, before)
    headers = ("scenario", "db", "figure", "value", "before", "target")
    if not before:
        headers, rows = headers[:4] + headers[5:], [r[:4] + r[5:] for r in rows]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print(f"Herald benchmarks ({'full' if full else 'quick'} sizes)")
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*(str(c) for c in row)))
