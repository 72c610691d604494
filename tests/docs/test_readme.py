"""The commands of the README and of docs/ work when pasted into a fresh clone after `make run`.

A copy of the working tree (what a clone has, no .env, no database) runs the real
`make run` on free ports; then the fenced shell blocks of the sections in RUN, wherever
they live (README.md or docs/*.md), run in bash sessions, in order, from the clone's
directory, exactly as written except for the two port numbers. Each `curl` must get a
2xx (a wrapper adds `--fail-with-body`), and the answers the pages promise are checked.

Every shell block of every page is either run so or sits under a heading of NOT_RUN (it
needs Docker, a cluster or a log file of the reader's own); the commands of those have
their management commands, `make` targets and files checked instead.
"""

from __future__ import annotations

import json
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
from django.core.management import get_commands

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]

# The sections whose shell blocks run against `make run`, by heading (any level, in any
# page): each tuple is one bash session, its sections in this order.
RUN = [
    # The API walk-through first (its ids are those of a fresh database), then the taste.
    ("REST API", "A taste of the API"),
    ("Health checks",),
    ("The local provider",),
    ("Daily report",),
]
# Sections whose shell blocks are not run here, and why.
NOT_RUN = {
    "Quick start": "test_quick_start_is_the_two_commands checks it",
    "Logs": "greps a log file of the reader's own",
    "Docker": "needs a Docker engine (make ops-check checks the files)",
    "Kubernetes": "needs a cluster (make ops-check checks the manifests)",
    "Performance": "make bench and make chaos take many minutes",
}

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


def headings(text: str):
    """(line index, level, title) of every heading; lines inside code fences are never
    headings (shell comments start with "#" too)."""
    in_fence = False
    for index, line in enumerate(text.splitlines()):
        if line.startswith("```"):
            in_fence = not in_fence
        match = re.match(r"(#+) (.*)", line) if not in_fence else None
        if match:
            yield index, len(match.group(1)), match.group(2).strip()


def section(text: str, title: str) -> str | None:
    """The lines under a heading, up to the next heading of the same or a higher level."""
    lines, start, level = text.splitlines(keepends=True), None, 0
    for index, found_level, found_title in headings(text):
        if start is None and found_title == title:
            start, level = index, found_level
        elif start is not None and found_level <= level:
            return "".join(lines[start:index])
    return "".join(lines[start:]) if start is not None else None


def page_section(title: str) -> str:
    """The section of that title in the one page that has it."""
    found = {page: section(page.read_text(), title) for page in PAGES}
    found = {page: text for page, text in found.items() if text is not None}
    assert len(found) == 1, f"section {title!r} in {[p.name for p in found] or 'no page'}"
    return next(iter(found.values()))


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.S | re.M)


def commands(block: str) -> list[str]:
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def blocks_with_their_headings():
    """(page, the titles of the headings above it, block) for every shell block."""
    for page in PAGES:
        text = page.read_text()
        titles_at = {index: (level, title) for index, level, title in headings(text)}
        stack: list[tuple[int, str]] = []
        lines = text.splitlines()
        index = 0
        while index < len(lines):
            if index in titles_at:
                level, title = titles_at[index]
                stack = [(lv, t) for lv, t in stack if lv < level] + [(level, title)]
            if lines[index] == "```sh":
                end = lines.index("```", index + 1)
                yield page, {t for _, t in stack}, "\n".join(lines[index + 1 : end])
                index = end
            index += 1


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


def run_sections(titles: tuple[str, ...], running) -> subprocess.CompletedProcess:
    """The shell blocks of those sections in one bash session against `make run`."""
    clone, port, provider_port, database_url = running
    script = "\n".join(block for title in titles for block in shell_blocks(page_section(title)))
    assert script.strip(), f"no shell block under {titles}"
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
        "127.0.0.1:8001", f"127.0.0.1:{provider_port}"
    )
    # A 4xx or 5xx fails the run (curl -s alone would print it and go on).
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; echo; }\n'
    return subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=clone,
        env=newcomer_env(clone, database_url),
        capture_output=True,
        text=True,
        timeout=180,
    )


def json_answers(out: str) -> list[dict]:
    answers = []
    for line in out.splitlines():
        try:
            answer = json.loads(line)
        except ValueError:
            continue
        if isinstance(answer, dict):
            answers.append(answer)
    return answers


def test_quick_start_is_the_two_commands():
    (block,) = shell_blocks(section(README.read_text(), "Quick start"))
    assert commands(block) == ["make run", "make test"]


def test_every_shell_block_is_run_or_says_why_not():
    run = {title for session in RUN for title in session}
    assert not run & NOT_RUN.keys()
    orphans = [
        f"{page.name}: {block.splitlines()[0]}"
        for page, titles, block in blocks_with_their_headings()
        if not titles & (run | NOT_RUN.keys())
    ]
    assert not orphans, f"shell blocks no test runs (add their section to RUN): {orphans}"
    for title in run | NOT_RUN.keys():
        assert shell_blocks(page_section(title)), f"no shell block under {title!r}"


def test_blocks_not_run_name_real_commands_targets_and_files():
    """What the blocks not run here ask for exists: management commands, make targets,
    and the files their commands name."""
    makefile = (REPO / "Makefile").read_text()
    for page, titles, block in blocks_with_their_headings():
        if not titles & NOT_RUN.keys():
            continue
        for command in commands(block):
            for target in re.findall(r"(?:^|\s)make ([\w-]+)", command):
                assert re.search(rf"^{target}:", makefile, re.M), f"{page.name}: make {target}"
            for path in re.findall(
                r"(?:^|[\s=@])((?:k8s|scripts|docker)/[\w./-]+|docker-compose[\w.-]*\.yml)", command
            ):
                assert (REPO / path).exists(), f"{page.name}: {path} in {command!r}"


def test_make_run_prints_a_sign_in_and_writes_the_local_settings(running):
    clone, *_ = running
    output = (clone / "make-run.log").read_text()
    assert re.search(r"Created sign-in\s+user: admin\s+password: \S+", output), output
    assert "DEBUG=1" in (clone / ".env").read_text()


def test_every_api_command_works_as_pasted(running):
    clone, *_ = running
    assert len(shell_blocks(page_section("REST API"))) >= 4
    result = run_sections(RUN[0], running)
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
    # The README's taste: its client, and its campaign running in the answer.
    answers = json_answers(out)
    assert any(a.get("phone") == "79037770102" for a in answers), out
    (taste,) = [a for a in answers if a.get("name") == "A taste"]
    assert taste["status"] == "running", taste


def test_health_check_commands_work_as_pasted(running):
    result = run_sections(RUN[1], running)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"status":"ok"' in result.stdout.replace(" ", "")
    assert "herald_database_up 1.0" in result.stdout


def test_the_local_provider_and_daily_report_commands_work_as_pasted(running):
    provider = run_sections(RUN[2], running)
    assert provider.returncode == 0, provider.stdout + provider.stderr
    assert '"outage": true' in provider.stdout or '"outage":true' in provider.stdout
    report = run_sections(RUN[3], running)
    assert report.returncode == 0, report.stdout + report.stderr


def test_manage_commands_in_the_pages_exist_and_run_with_the_venv(running):
    clone, _, _, database_url = running
    lines = [line for page in PAGES for line in page.read_text().splitlines()]
    named = {name for line in lines for name in re.findall(r"manage\.py (\w+)", line)}
    assert named - set(get_commands()) == set(), "management commands that do not exist"
    pasted = [
        line
        for line in lines
        if "manage.py " in line and not line.lstrip().startswith(("|", "docker", "kubectl"))
    ]
    bare = [line for line in pasted if re.search(r"(?<![/\w])python manage\.py", line)]
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
