"""The summary table printed after a run: one row per scenario and database."""

from __future__ import annotations


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# (scenario, figure key, label, target text)
FIGURES = [
    ("throughput", "rate", "msg/s end to end", ">= 1200"),
    ("throughput", "bare_rate", "bare client loop msg/s (ceiling)", ""),
    ("throughput", "single_rate", "one-at-a-time loop msg/s", ""),
    ("throughput", "vs_bare", "engine / bare ceiling", ">= 0.8"),
    ("throughput", "vs_single", "engine / one-at-a-time", ">= 25"),
    ("throughput", "max_receipts_per_msg", "max receipts per msgId", "1"),
    ("throughput", "worker_peak_rss_mb", "worker peak RSS MB", "<= 250"),
]


def print_table(results: list[dict], *, full: bool) -> None:
    rows = []
    for result in results:
        scenario, db = result.get("scenario"), result.get("db")
        if "error" in result:
            rows.append((scenario, db, "ERROR", result["error"][:60], ""))
            continue
        for fs, key, label, target in FIGURES:
            if fs == scenario and key in result:
                rows.append((scenario, db, label, _fmt(result[key]), target))
    headers = ("scenario", "db", "figure", "value", "target")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(5)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print(f"Herald benchmarks ({'full' if full else 'quick'} sizes)")
    print(line.format(*headers))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*(str(c) for c in row)))
