"""The benchmark runner: `python -m bench` (or `make bench` / `make chaos`).

    python -m bench                          # quick sizes, SQLite and PostgreSQL, make bench set
    BENCH_FULL=1 python -m bench             # the issue's full sizes
    python -m bench --suite chaos            # resilience runs (faults, crash, db_outage,
                                             # sigterm, fuzz, load)
    python -m bench --db sqlite --scenario latency --count 300       # a tiny smoke run
    python -m bench --db sqlite --scenario faults --count 300 --set length_s=20 --set outage_s=3

Each scenario runs in its own child process with a fresh database (a SQLite file under a
temporary directory, or the PostgreSQL database `bench`, dropped and created again), the
local provider as a separate process and, where it sends, a real `qcluster`. Every child
prints one JSON line; the parent prints them as they come and one table at the end.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

from bench.harness import ROOT, BenchEnv, close_db, drop_postgres, setup_django

JSON_PREFIX = "BENCH_JSON "

QUICK = {
    "throughput": {"count": 10_000},
    "latency": {"count": 5_000},
    "hangs": {"count": 5_000},
    "start_latency": {"in_window": 3, "scheduled": 5},
    "reads": {"clients": 100_000, "messages": 100_000, "campaigns": 200, "repeat": 30},
    "writes": {"csv_rows": 100_000, "targets": 200_000},
    "faults": {"count": 6_000, "outage_s": 10, "length_s": 60},
    "crash": {"count": 5_000},
    "fuzz": {"max_examples": 10, "max_time": 60},
    "load": {"users": 32, "seconds": 15, "count": 10_000},
    "db_outage": {"count": 10_000, "outages_s": [20, 120]},
    "sigterm": {"count": 3_000},
    # Only when named (--scenario million): a smaller run of the full size's scenario.
    "million": {"count": 200_000},
}
FULL = {
    "throughput": {"count": 100_000},
    "latency": {"count": 20_000},
    "hangs": {"count": 20_000},
    "start_latency": {"in_window": 3, "scheduled": 5},
    "reads": {"clients": 1_000_000, "messages": 1_000_000, "campaigns": 200, "repeat": 50},
    "writes": {"csv_rows": 100_000, "targets": 1_000_000},
    "faults": {"count": 24_000, "outage_s": 30, "length_s": 240},
    "crash": {"count": 20_000},
    "fuzz": {"max_examples": 50, "max_time": 300},
    "load": {"users": 32, "seconds": 60, "count": 50_000},
    "db_outage": {"count": 20_000, "outages_s": [20, 120]},
    "sigterm": {"count": 10_000},
    "million": {"count": 1_000_000},
}
SUITES = {
    "bench": ["throughput", "latency", "hangs", "start_latency", "reads", "writes", "million"],
    "chaos": ["faults", "crash", "db_outage", "sigterm", "fuzz", "load"],
}
# Run by the full sizes only (or when named): the quick `make bench` keeps its run time.
FULL_ONLY = {"million"}


def scenario_function(name: str):
    if name == "throughput":
        from bench.throughput import throughput

        return throughput
    if name in ("latency", "hangs"):
        from bench import latency

        return getattr(latency, name)
    if name == "start_latency":
        from bench.start import start_latency

        return start_latency
    if name == "reads":
        from bench.reads import reads

        return reads
    if name == "writes":
        from bench.writes import writes

        return writes
    if name in ("faults", "crash"):
        from bench import chaos

        return getattr(chaos, name)
    if name in ("db_outage", "sigterm"):
        from bench import outages

        return getattr(outages, name)
    if name == "fuzz":
        from bench.fuzz import fuzz

        return fuzz
    if name == "load":
        from bench.load import load

        return load
    if name == "million":
        from bench.million import million

        return million
    raise SystemExit(f"unknown scenario {name!r}")


def run_one(db: str, scenario: str, params: dict, extra_env: dict[str, str]) -> int:
    """In a child: a fresh database, one scenario, one JSON line."""
    env = BenchEnv(db=db, extra=extra_env)
    try:
        setup_django(env)
        result = scenario_function(scenario)(env, **params)
    except Exception as exc:
        traceback.print_exc()
        result = {"scenario": scenario, "db": db, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        close_db()
    print(JSON_PREFIX + json.dumps(result, default=str), flush=True)
    anomaly = any(
        result.get(k)
        for k in (
            "error",
            "missed",
            "lost",
            "requests_after_end_at",
            "receipts_duplicated",
            "accepted_recorded_otherwise",
            "database_errors",
            "server_errors",
            "schema_violations",
        )
    )
    if os.environ.get("BENCH_KEEP") or anomaly:
        # The cluster's and web server's logs stay for a look.
        print(f"kept {env.workdir}", flush=True)
    else:
        shutil.rmtree(env.workdir, ignore_errors=True)
        if db == "postgres":
            drop_postgres()
    return 0 if "error" not in result else 1


def spawn(db: str, scenario: str, params: dict, extra_env: dict[str, str]) -> dict:
    argv = [sys.executable, "-m", "bench", "--child", "--db", db, "--scenario", scenario]
    argv += ["--params", json.dumps(params), "--env", json.dumps(extra_env)]
    started = time.monotonic()
    print(f"--- {scenario} on {db} {params}", flush=True)
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    result = None
    for line in proc.stdout:
        if line.startswith(JSON_PREFIX):
            result = json.loads(line[len(JSON_PREFIX) :])
            print(json.dumps(result), flush=True)
        else:
            print("    " + line.rstrip(), flush=True)
    proc.wait()
    if result is None:
        result = {"scenario": scenario, "db": db, "error": f"child exited {proc.returncode}"}
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--suite", choices=sorted(SUITES), default="bench")
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--scenario", action="append")
    parser.add_argument("--full", action="store_true", default=bool(os.environ.get("BENCH_FULL")))
    parser.add_argument(
        "--count",
        "--clients",
        dest="count",
        type=int,
        help="override the size (messages) of a sending scenario, e.g. 300 for a smoke run",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one parameter of the scenarios that take it (VALUE is JSON or text)",
    )
    parser.add_argument(
        "--before",
        default=os.environ.get("BENCH_BEFORE") or None,
        metavar="FILE",
        help="saved output of an earlier run (e.g. of the code before a change, on the same "
        "machine): its figures are printed beside this run's",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--env", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        return run_one(args.db[0], args.scenario[0], json.loads(args.params), json.loads(args.env))

    sizes = FULL if args.full else QUICK
    dbs = args.db or os.environ.get("BENCH_DBS", "sqlite postgres").split()
    scenarios = args.scenario or [
        name for name in SUITES[args.suite] if args.full or name not in FULL_ONLY
    ]
    overrides = parse_overrides(parser, args.set)
    before = None
    if args.before:
        from bench.report import load_results

        try:
            before = load_results(args.before)
        except OSError as exc:
            parser.error(f"--before: {exc}")
    unknown = [name for name in scenarios if name not in sizes]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)} (known: {', '.join(sizes)})")
    results = []
    for db in dbs:
        for scenario in scenarios:
            params = dict(sizes[scenario])
            if args.count and "count" in params:
                params["count"] = args.count
            accepted = inspect.signature(scenario_function(scenario)).parameters
            params.update({k: v for k, v in overrides.items() if k in accepted})
            results.append(spawn(db, scenario, params, chaos_env(scenario)))
    from bench.report import print_table

    print_table(results, full=args.full, before=before)
    return 0 if all("error" not in r for r in results) else 1


def parse_overrides(parser: argparse.ArgumentParser, items: list[str]) -> dict:
    overrides = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            parser.error(f"--set takes NAME=VALUE, got {item!r}")
        try:
            overrides[name] = json.loads(text)
        except ValueError:
            overrides[name] = text
    return overrides


def chaos_env(scenario: str) -> dict[str, str]:
    """Resilience runs lower PROVIDER_READ_TIMEOUT so leases (connect + read + 20 s + the
    guaranteed outage) are shorter."""
    if scenario in ("faults", "crash", "db_outage", "sigterm"):
        return {"PROVIDER_READ_TIMEOUT": "2", "PROVIDER_CONNECT_TIMEOUT": "1"}
    return {}


if __name__ == "__main__":
    sys.exit(main())
