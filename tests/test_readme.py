"""The README's commands work when pasted into a fresh clone after `make run`.

A copy of the working tree (what a clone has, no .env, no database) runs the real
`make run` on free ports; then every fenced shell block of the README's "REST API"
section runs in one bash session, in order, from the clone's directory, exactly as
written except for the two port numbers. Each `curl` must get a 2xx (a wrapper adds
`--fail-with-body`), and the answers the README promises are checked.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"

pytestmark = pytest.mark.slow

# On the suite's PostgreSQL pass, make run gets a fresh PostgreSQL database of its own
# (DATABASE_URL, as the README documents); otherwise its default fresh SQLite file.
SUITE_DATABASE_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(scope="module")
def database_url():
    if not SUITE_DATABASE_URL:
        yield ""
        return
    import psycopg

    base, _, _ = SUITE_DATABASE_URL.rpartition("/")
    name = f"herald_readme_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def section(text: str, title: str, level: int = 2) -> str:
    """The lines under a heading, up to the next heading of the same or a higher level.

    Lines inside code fences are never headings (shell comments start with "#" too).
    """
    lines, inside, in_fence = [], False, False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            in_fence = not in_fence
        heading = re.match(r"(#+) ", line) if not in_fence else None
        if heading and inside and len(heading.group(1)) <= level:
            break
        if heading and line.strip() == f"{'#' * level} {title}":
            inside = True
        if inside:
            lines.append(line)
    assert lines, f"no section {title!r}"
    return "".join(lines)


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, flags=re.S)


def commands(block: str) -> list[str]:
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newcomer_env(clone: Path, database_url: str = "") -> dict[str, str]:
    """A shell with none of Herald's settings set by hand (the tests' own stripped)."""
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SQLITE_PATH"}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.startswith(("PYTEST", "HERALD_", "PROVIDER_", "PROMETHEUS_"))
    }
    env["PWD"] = str(clone)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def make_clone(target: Path) -> Path:
    """The files a fresh clone has (tracked and new, not ignored), with the installed .venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = REPO / name
        if not source.is_file():
            continue  # deleted in the working tree
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)  # keeps mtimes: make sees .venv as up to date
    (target / ".venv").symlink_to(REPO / ".venv")
    return target


@pytest.fixture(scope="module")
def running(tmp_path_factory, database_url):
    clone = make_clone(tmp_path_factory.mktemp("clone"))
    port, provider_port = free_port(), free_port()
    log = (clone / "make-run.log").open("w+")
    process = subprocess.Popen(
        # -o: never reinstall into the shared .venv from a test.
        [
            "make",
            "run",
            f"PORT={port}",
            f"PROVIDER_PORT={provider_port}",
            "-o",
            ".venv/bin/.installed",
        ],
        cwd=clone,
        env=newcomer_env(clone, database_url),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, clone.joinpath("make-run.log").read_text()
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(
                "make run did not serve in 120 s:\n" + clone.joinpath("make-run.log").read_text()
            )
        yield clone, port, provider_port, database_url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C, as a person stops it
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def test_quick_start_is_the_two_commands():
    (block,) = shell_blocks(section(README.read_text(), "Quick start"))
    assert commands(block) == ["make run", "make test"]


def test_make_run_prints_a_sign_in_and_writes_the_local_settings(running):
    clone, *_ = running
    output = (clone / "make-run.log").read_text()
    assert re.search(r"Created sign-in\s+user: admin\s+password: \S+", output), output
    assert "DEBUG=1" in (clone / ".env").read_text()


def test_every_rest_api_command_in_the_readme_works_as_pasted(running):
    clone, port, provider_port, database_url = running
    blocks = shell_blocks(section(README.read_text(), "REST API"))
    assert len(blocks) >= 4
    script = "\n".join(blocks)
    assert "127.0.0.1:8000" in script
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
        "127.0.0.1:8001", f"127.0.0.1:{provider_port}"
    )
    # A 4xx or 5xx fails the run (curl -s alone would print it and go on).
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; echo; }\n'
    result = subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=clone,
        env=newcomer_env(clone, database_url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    out = result.stdout
    assert '"phone":"79161234567"' in out  # typed as +7 (916) 123-45-67
    assert '"imported":true,"created":3' in out  # the sample CSV
    assert '"rejected_count":1' in out  # the appended bad row
    assert '"status":"running"' in out  # an in-window campaign, right in the answer
    assert '"status":"scheduled"' in out
    assert '"requeued":0' in out
    assert '"opted_out_via":"api"' in out and '"stop_listed":true' in out
    assert '"added":1,"already":0' in out  # the stop list, by the API
    assert '"added":0,"already":2' in out  # its export, imported back
    assert '"promotional":true' in out
    # The rejected rows for Excel: UTF-8 with a byte-order mark, semicolons.
    rejected = (clone / "rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejected[0] == "phone;operator_code;tag;timezone;name;line;errors"
    assert rejected[1].startswith("7926;;vip;Nowhere/City;;")
    # The Russian Excel file with a mapping: one client, its custom field kept.
    assert '"read_as":"CSV, UTF-8, separated by «;»"' in out


def run_blocks(markdown: str, clone: Path, port: int, provider_port: int, database_url: str):
    script = "\n".join(shell_blocks(markdown))
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
        "127.0.0.1:8001", f"127.0.0.1:{provider_port}"
    )
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; echo; }\n'
    return subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=clone,
        env=newcomer_env(clone, database_url),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_local_provider_and_daily_report_commands_work_as_pasted(running):
    clone, port, provider_port, database_url = running
    text = README.read_text()
    provider = run_blocks(
        section(text, "The local provider", 3), clone, port, provider_port, database_url
    )
    assert provider.returncode == 0, provider.stdout + provider.stderr
    assert '"outage": true' in provider.stdout or '"outage":true' in provider.stdout
    report = run_blocks(section(text, "Daily report", 3), clone, port, provider_port, database_url)
    assert report.returncode == 0, report.stdout + report.stderr


def test_manage_commands_in_the_readme_run_with_the_venv(running):
    clone, _, _, database_url = running
    lines = [
        line
        for line in README.read_text().splitlines()
        if "manage.py " in line and not line.lstrip().startswith(("|", "docker", "kubectl"))
    ]
    bare = [line for line in lines if re.search(r"(?<![/\w])python manage\.py", line)]
    assert not bare, f"use .venv/bin/python: {bare}"
    result = subprocess.run(
        [".venv/bin/python", "manage.py", "runprovider", "--help"],
        cwd=clone,
        env=newcomer_env(clone, database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
