from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from config.middleware import ids_from_url
from core.logs import IdsFilter, OneLineFormatter, RedactFilter, ids, log_context
from messaging.models import Message
from tests.conftest import make_campaign
from tests.engine.conftest import (  # noqa: F401  (fixtures: a scripted provider over HTTP)
    fast_retries,
    make_clients,
    run_pump,
    running_campaign,
    scripted,
)

pytestmark = pytest.mark.django_db

TOKEN = settings.PROVIDER_TOKEN


@pytest.fixture(params=["text", "json"])
def captured(request):
    """Every log line, formatted as in production with LOG_FORMAT=text or json."""
    fmt = settings.LOGGING["formatters"]["text"]["format"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(fmt) if request.param == "json" else OneLineFormatter(fmt))
    handler.addFilter(IdsFilter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield request.param, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def carries(kind: str, line: str | dict, key: str, value: int) -> bool:
    """Whether a line carries this id: a key of its own (JSON), `key=value` (text)."""
    if kind == "json":
        record = line if isinstance(line, dict) else json.loads(line)
        return record.get(key) == value
    return f" {key}={value} " in line + " "


def lines_about(kind: str, output: str, key: str, value: int) -> list[str]:
    lines = [line for line in output.splitlines() if line.strip()]
    if kind == "json":
        [json.loads(line) for line in lines]  # every line is JSON
    return [line for line in lines if carries(kind, line, key, value)]


def test_every_line_about_one_message_is_found_by_its_id_with_no_token(
    captured,
    scripted,  # noqa: F811
    fast_retries,  # noqa: F811
    viewer_api,
):
    kind, stream = captured
    make_clients(1)
    campaign = running_campaign()
    message = Message.objects.get()
    scripted.respond(500, "provider down")  # first request fails, the retry succeeds
    run_pump(scripted.url, token=TOKEN)
    assert viewer_api.get(f"/api/messages/{message.pk}/").status_code == 200

    output = stream.getvalue()
    about = lines_about(kind, output, "message_id", message.pk)
    text = "\n".join(about)
    assert text.count("provider request") == 2, text
    assert text.count("provider response") == 2
    assert "outcome=http_error http_status=500" in text
    assert "outcome=ok http_status=200" in text
    assert "message retry scheduled" in text
    assert f"request method=GET path=/api/messages/{message.pk}/ status=200" in text
    assert "user=viewer" in text
    # The same lines carry the campaign and the client too.
    provider_lines = [line for line in about if "provider" in line]
    assert all(carries(kind, line, "campaign_id", campaign.pk) for line in provider_lines)
    assert all(carries(kind, line, "client_id", message.client_id) for line in provider_lines)
    assert lines_about(kind, output, "campaign_id", campaign.pk)
    # The token went to the provider, and into no log line.
    assert {r["auth"] for r in scripted.requests} == {f"Bearer {TOKEN}"}
    assert TOKEN not in output


# The README's searches (its "Logs" section), as an operator pastes them.
README_SEARCHES = {
    "text": [
        "grep -E 'campaign_id={campaign}( |$)' herald.log",
        "grep -E 'message_id={message}( |$)' herald.log",
        "grep -E 'client_id={client}( |$)'   herald.log",
    ],
    "json": [
        "jq -c 'select(.campaign_id == {campaign})' herald.log",
        "jq -c 'select(.message_id == {message})' herald.log",
        "jq -c 'select(.client_id == {client})' herald.log",
    ],
}


def test_the_readme_searches_find_a_campaigns_a_messages_and_a_clients_lines(
    captured,
    scripted,  # noqa: F811
    tmp_path,
):
    kind, stream = captured
    if kind == "json" and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    make_clients(2)
    campaign = running_campaign()
    other = make_campaign(name="Another")
    message, other_message = Message.objects.order_by("id")
    run_pump(scripted.url, token=TOKEN)
    (tmp_path / "herald.log").write_text(stream.getvalue())
    lines = stream.getvalue().splitlines()
    wanted = {"campaign": campaign.pk, "message": message.pk, "client": message.client_id}
    others = {"campaign": other.pk, "message": other_message.pk, "client": other_message.client_id}
    for search, key in zip(README_SEARCHES[kind], wanted, strict=True):
        command = search.format(**wanted)
        found = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        # Exactly the lines that carry the id, in the order they were written (jq writes
        # them compact: compared as records).
        expected = [line for line in lines if carries(kind, line, f"{key}_id", wanted[key])]
        if kind == "json":
            found, expected = [json.loads(x) for x in found], [json.loads(x) for x in expected]
        assert found == expected, command
        assert not [line for line in found if carries(kind, line, f"{key}_id", others[key])]
        text = "\n".join(r["message"] for r in found) if kind == "json" else "\n".join(found)
        assert text.count("provider request") == (2 if key == "campaign" else 1), command
        assert "provider response" in text, command
    assert any(
        "campaign started" in line
        for line in lines
        if carries(kind, line, "campaign_id", campaign.pk)
    )


def test_request_lines_carry_the_ids_in_the_url(captured, viewer_api):
    kind, stream = captured
    campaign = make_campaign(name="Logged")
    viewer_api.get(f"/api/campaigns/{campaign.pk}/stats/")
    viewer_api.get(f"/api/campaigns/{campaign.pk}/messages/")
    about = lines_about(kind, stream.getvalue(), "campaign_id", campaign.pk)
    assert any(f"path=/api/campaigns/{campaign.pk}/stats/ status=200" in line for line in about)
    assert any(f"path=/api/campaigns/{campaign.pk}/messages/ status=200" in line for line in about)


def test_ids_from_url_names_and_kwargs():
    assert ids_from_url("campaign-detail", {"pk": "5"}) == {"campaign_id": 5}
    assert ids_from_url("client-detail", {"pk": 7}) == {"client_id": 7}
    assert ids_from_url("message_detail", {"pk": "9"}) == {"message_id": 9}
    assert ids_from_url("campaign-messages", {"campaign_pk": "3"}) == {"campaign_id": 3}
    assert ids_from_url("home", {"pk": "3"}) == {}


class Job:
    campaign_id, message_id, client_id = 12, 4711, 305


def test_ids_are_fields_json_keys_and_key_value_text_never_in_the_message(captured):
    kind, stream = captured
    logging.getLogger("herald.test").info(
        "provider request url=%s", "http://p/send/4711", extra=ids(Job())
    )
    [line] = stream.getvalue().splitlines()
    if kind == "json":
        record = json.loads(line)
        assert (record["campaign_id"], record["message_id"], record["client_id"]) == (12, 4711, 305)
        assert record["message"] == "provider request url=http://p/send/4711"
    else:
        assert line.endswith(
            " herald.test provider request url=http://p/send/4711"
            " campaign_id=12 message_id=4711 client_id=305"
        )


def test_a_line_about_one_campaign_carries_only_that_id(captured):
    kind, stream = captured
    logging.getLogger("herald.test").info("campaign finished", extra={"campaign_id": 12})
    [line] = stream.getvalue().splitlines()
    if kind == "json":
        record = json.loads(line)
        assert record["campaign_id"] == 12 and "message_id" not in record
    else:
        assert line.endswith(" campaign finished campaign_id=12")


def test_context_ids_join_lines_that_do_not_name_them(captured):
    kind, stream = captured
    with log_context(campaign_id=12, client_id=4):
        logging.getLogger("herald.test").info("something happened", extra={"message_id": 99})
        # The call's own id wins over the context's.
        logging.getLogger("herald.test").info("another client", extra={"client_id": 5})
    first, second = stream.getvalue().splitlines()
    if kind == "json":
        record = json.loads(first)
        assert (record["campaign_id"], record["client_id"], record["message_id"]) == (12, 4, 99)
        assert record["message"] == "something happened"
        assert json.loads(second)["client_id"] == 5
    else:
        assert first.endswith("something happened campaign_id=12 message_id=99 client_id=4")
        assert second.endswith("another client campaign_id=12 client_id=5")


def test_tokens_and_secrets_are_scrubbed_from_every_line(captured):
    _, stream = captured
    log = logging.getLogger("herald.test")
    log.info("calling provider with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig")
    log.warning("token is %s", TOKEN)
    log.info("api call with Authorization: Token %s", "0123456789abcdef0123456789abcdef01234567")
    log.info("provider token changed; sending resumes")
    try:
        raise RuntimeError(f"refused {TOKEN}")
    except RuntimeError:
        log.exception("provider call failed")
    output = stream.getvalue()
    assert TOKEN not in output
    assert "eyJhbGciOiJIUzI1NiJ9" not in output
    assert "0123456789abcdef" not in output
    assert output.count("[REDACTED]") == 4
    assert "provider token changed; sending resumes" in output


LOG_IN_A_PROCESS = """
import logging
import django
django.setup()
from core.logs import log_context
with log_context(campaign_id=3):
    logging.getLogger("messaging.engine.pump").info(
        "provider request Authorization: Bearer eyJhbGciOi.e30.sig",
        extra={"message_id": 5, "client_id": 8},
    )
"""


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_configured_logging_adds_ids_and_redacts(log_format):
    """LOG_FORMAT as an operator sets it, through settings.LOGGING in a fresh process."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "LOG_FORMAT": log_format}
    command = [sys.executable, "-c", LOG_IN_A_PROCESS]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "eyJhbGciOi" not in line
    if log_format == "json":
        record = json.loads(line)
        assert (record["campaign_id"], record["message_id"], record["client_id"]) == (3, 5, 8)
        assert record["levelname"] == "INFO" and record["name"] == "messaging.engine.pump"
        assert record["message"] == "provider request Authorization: Bearer [REDACTED]"
    else:
        assert line.endswith(
            "provider request Authorization: Bearer [REDACTED]"
            " campaign_id=3 message_id=5 client_id=8"
        )


FORGED = "2026-12-01 00:00:00,000 INFO herald.audit audit event=sign_in user='admin'"


def test_a_line_break_in_a_request_path_cannot_forge_a_log_line(captured, client):
    kind, stream = captured
    # As a browser or curl sends it: percent-encoded, decoded into request.path.
    client.get(quote(f"/nothing\r\n{FORGED}\u2028{FORGED}"))
    client.post("/accounts/login/", {"username": f"x\n{FORGED}", "password": "y"})
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    if kind == "json":
        messages = [json.loads(line)["message"] for line in lines]  # each line one record
        assert any(f"\r\n{FORGED}" in message for message in messages)
    else:
        assert not [line for line in lines if line.startswith(FORGED[:23])]
        request_line = next(line for line in lines if "path=/nothing" in line)
        assert f"path=/nothing\\r\\n{FORGED}\\u2028" in request_line


def test_a_line_break_in_user_text_stays_escaped_before_the_ids(captured):
    kind, stream = captured
    logging.getLogger("herald.test").info(
        "campaign created name=%s", f"x\r\n{FORGED}", extra={"campaign_id": 12}
    )
    [line] = stream.getvalue().splitlines()
    if kind == "json":
        assert json.loads(line)["message"] == f"campaign created name=x\r\n{FORGED}"
    else:
        assert line.endswith(f"campaign created name=x\\r\\n{FORGED} campaign_id=12")


def test_a_traceback_keeps_its_lines_after_the_escaped_message(captured):
    kind, stream = captured
    if kind == "json":
        return
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("herald.test").exception("failed for\nuser")
    output = stream.getvalue()
    assert "failed for\\nuser\nTraceback (most recent call last):" in output


ESCAPED_IN_A_PROCESS = """
import logging
import django
django.setup()
logging.getLogger("herald.requests").info("request path=/x\\r\\nforged line")
"""


def test_the_configured_text_format_writes_one_line_per_event():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "LOG_FORMAT": "text"}
    command = [sys.executable, "-c", ESCAPED_IN_A_PROCESS]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.endswith("request path=/x\\r\\nforged line")


class CountingStream(io.StringIO):
    """A stream that counts its writes (each would be a write() to a pipe or file)."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def batched(max_delay: float) -> tuple[logging.Logger, CountingStream]:
    from core.logs import BatchedStreamHandler

    stream = CountingStream()
    handler = BatchedStreamHandler(stream, max_delay=max_delay)
    handler.setFormatter(OneLineFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"tests.batched.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger, stream


def test_the_console_handler_writes_lines_in_batches():
    assert settings.LOGGING["handlers"]["console"]["class"] == "core.logs.BatchedStreamHandler"


def test_info_lines_wait_for_one_write_and_a_warning_takes_them_all_out_in_order():
    logger, stream = batched(max_delay=60)
    for n in range(100):
        logger.info("provider request message_id=%d", n)
    assert stream.writes == 0
    logger.warning("message failed message_id=7")
    assert stream.writes == 1
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["INFO provider request message_id=0", "INFO provider request message_id=1"]
    assert lines[99:] == [
        "INFO provider request message_id=99",
        "WARNING message failed message_id=7",
    ]


def test_a_waiting_line_goes_out_by_itself_when_nothing_follows_it():
    logger, stream = batched(max_delay=0.05)
    logger.info("the last line before a quiet spell")
    deadline = time.monotonic() + 10  # a bound, not a measure: the flusher wakes every 0.05 s
    while "quiet spell" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue() == "INFO the last line before a quiet spell\n"


def test_lines_waiting_at_exit_are_written_once_and_a_forked_child_keeps_none_of_its_parents():
    script = """
import logging, os, sys
from core.logs import BatchedStreamHandler
handler = BatchedStreamHandler(sys.stdout, max_delay=60)
logging.basicConfig(level=logging.INFO, handlers=[handler], format="%(message)s")
logging.info("parent line")
pid = os.fork()
if pid == 0:
    logging.info("child line")
    logging.shutdown()
    os._exit(0)
os.waitpid(pid, 0)
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert sorted(out.splitlines()) == ["child line", "parent line"]


def test_a_multiprocessing_worker_writes_its_last_lines_when_it_ends():
    """django-q2's workers are multiprocessing children: they end without atexit (so
    without logging.shutdown), and their last lines must still be written."""
    script = """
import logging, multiprocessing, sys
from core.logs import BatchedStreamHandler
handler = BatchedStreamHandler(sys.stdout, max_delay=60)
logging.basicConfig(level=logging.INFO, handlers=[handler], format="%(message)s")

def work():
    logging.info("the worker's last line")

child = multiprocessing.get_context("fork").Process(target=work)
child.start()
child.join(30)
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    ).stdout
    assert out.splitlines() == ["the worker's last line"]
