"""Fuzz: schemathesis against /api/schema/ of a running gunicorn, with a Manager's token.

Counts failures per check from schemathesis's summary; the targets are 0 server errors
and 0 responses that break the schema. Failing cases are printed with their curl lines.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.harness import ROOT, BenchEnv, close_db, make_clients
from bench.web import WebServer, manager_credentials

CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
)


def _seed() -> None:
    """A few clients and campaigns, so that operations on ids find something."""
    from django.utils import timezone

    from messaging import services

    make_clients(50)
    now = timezone.now()
    for i in range(3):
        services.create_campaign(
            values={
                "text": f"Fuzz {i}",
                "start_at": now + timedelta(days=1),
                "end_at": now + timedelta(days=2),
            }
        )


def fuzz(env: BenchEnv, *, max_examples: int, max_time: int = 90) -> dict:
    _seed()
    token, _ = manager_credentials()
    close_db()
    server = WebServer(env, workers=1, threads=4)
    report = env.workdir / "junit.xml"
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/api/schema/",
        "--url",
        f"{server.url}",
        "-H",
        f"Authorization: Token {token}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(max_examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        str(max_time),
        "--seed",
        "1",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
        "--generation-database",
        "none",
    ]
    try:
        proc = subprocess.run(
            argv,
            cwd=ROOT,
            env=env.env(),
            capture_output=True,
            text=True,
            timeout=max_time + 120,
            check=False,
        )
    finally:
        server.stop()
    (env.workdir / "schemathesis.txt").write_text(proc.stdout + proc.stderr)
    # The summary's "Failures:" lines: "❌ ST108 Response violates schema: 11".
    failures = Counter(
        {name.strip(): int(n) for name, n in re.findall(r"ST\d+ ([^:\n]+): (\d+)", proc.stdout)}
    )
    print(proc.stdout[-3000:])
    server_errors = failures.get("Server error", 0)
    schema = failures.get("Response violates schema", 0)
    summary = re.findall(r"^\s*(\d+ generated.*)$", proc.stdout, re.M)
    return {
        "scenario": "fuzz",
        "db": env.db,
        "max_examples": max_examples,
        "exit_code": proc.returncode,
        "server_errors": server_errors,
        "schema_violations": schema,
        "failures_by_kind": dict(failures),
        "summary": summary[-1] if summary else "",
        "output": str(Path(env.workdir) / "schemathesis.txt"),
    }
