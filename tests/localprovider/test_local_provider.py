"""The local provider speaks the Probe contract and injects the faults it is told to.

Plain pytest over real HTTP on loopback; no Django database. One provider serves the whole
module and is reset before each test.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import asdict

import pytest
import requests

from localprovider import (
    ConfigError,
    LocalProvider,
    ProviderConfig,
    add_arguments,
    config_to_argv,
    main,
    settings_from_options,
    start_subprocess,
    stop_subprocess,
)
from localprovider.protocol import _latency
from localprovider.server import SO_TIMESTAMPNS

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = 79001234567
KERNEL_STAMPS = SO_TIMESTAMPNS is not None
TIMEOUT = 5


def body(msg_id: int, **overrides: object) -> dict:
    return {"id": msg_id, "phone": PHONE, "text": "Hello"} | overrides


@pytest.fixture(scope="module")
def provider():
    with LocalProvider(token=TOKEN) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(provider):
    provider.configure(**asdict(ProviderConfig(token=TOKEN)))
    provider.reset()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def send(http, provider, msg_id=1, *, headers=AUTH, timeout=TIMEOUT, **overrides):
    return http.post(
        provider.send_url(msg_id), json=body(msg_id, **overrides), headers=headers, timeout=timeout
    )


def control(http, provider, method="GET", path="/_control", **kwargs):
    return http.request(method, provider.control_url + path, timeout=TIMEOUT, **kwargs)


# --------------------------------------------------------------------------- the contract


@pytest.mark.fast
def test_success_answers_code_0_and_records_a_receipt(http, provider):
    response = send(http, provider, 42)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"code": 0, "message": "OK"}
    assert provider.url == f"http://127.0.0.1:{provider.port}/v1"
    receipt = provider.receipt(42)
    assert receipt["count"] == 1
    assert receipt["phone"] == PHONE
    assert receipt["text"] == "Hello"


@pytest.mark.fast
def test_keep_alive_serves_many_requests_on_one_connection(http, provider):
    for msg_id in range(1, 21):
        assert send(http, provider, msg_id).status_code == 200

    assert provider.stats()["max_connections"] == 1
    assert provider.receipts()["unique"] == 20


@pytest.mark.fast
def test_pipelined_requests_are_answered_in_order(provider):
    def raw(msg_id: int) -> bytes:
        payload = json.dumps(body(msg_id)).encode()
        return (
            f"POST /v1/send/{msg_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload

    provider.configure(latency_ms=30)  # the first answer is held back while the second waits
    with socket.create_connection(("127.0.0.1", provider.port), timeout=TIMEOUT) as sock:
        sock.sendall(raw(1) + raw(2) + b"GET /v1/nowhere HTTP/1.1\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk

    assert re.findall(rb"HTTP/1\.1 (\d{3})", received) == [b"200", b"200", b"404"]
    assert [r["id"] for r in provider.requests()] == [1, 2, None]


@pytest.mark.fast
def test_expect_100_continue_is_honoured(provider):
    payload = json.dumps(body(5)).encode()
    head = (
        f"POST /v1/send/5 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Expect: 100-continue\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", provider.port), timeout=TIMEOUT) as sock:
        sock.sendall(head)
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(payload)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk

    assert received.startswith(b"HTTP/1.1 200 OK")
    assert provider.receipt_count(5) == 1


@pytest.mark.fast
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty body"),
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"id": 7, "text": "x"}).encode(), "missing field(s): phone"),
        (json.dumps({"phone": PHONE}).encode(), "missing field(s): id, text"),
        (json.dumps(body(8)).encode(), "does not match msgId 7"),
        (json.dumps(body("7")).encode(), "id must be an int64"),
        (json.dumps(body(True)).encode(), "id must be an int64"),
        (json.dumps(body(7, phone=7900123456)).encode(), "phone must be an integer of exactly 11"),
        (json.dumps(body(7, phone=790012345678)).encode(), "phone must be an integer"),
        (json.dumps(body(7, phone=str(PHONE))).encode(), "phone must be an integer"),
        (json.dumps(body(7, text=5)).encode(), "text must be a string"),
    ],
)
def test_bad_body_is_400_with_an_explanation(http, provider, data, fragment):
    response = http.post(provider.send_url(7), data=data, headers=AUTH, timeout=TIMEOUT)

    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert provider.receipts()["total"] == 0


@pytest.mark.fast
def test_non_numeric_msg_id_in_path_is_400(http, provider):
    response = http.post(f"{provider.url}/send/abc", json=body(1), headers=AUTH, timeout=TIMEOUT)

    assert response.status_code == 400
    assert "msgId" in response.json()["message"]


@pytest.mark.fast
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Token {TOKEN}"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_missing_or_bad_token_is_401(http, provider, headers):
    response = send(http, provider, 1, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert provider.receipts()["total"] == 0


@pytest.mark.fast
def test_no_token_checking_accepts_anything(http, provider):
    provider.configure(check_token=False)

    assert send(http, provider, 1, headers={}).status_code == 200
    assert send(http, provider, 2, headers={"Authorization": "Bearer other"}).status_code == 200


@pytest.mark.fast
def test_without_a_configured_token_any_bearer_token_is_accepted(http, provider):
    provider.configure(token=None)

    assert send(http, provider, 1, headers={"Authorization": "Bearer anything"}).status_code == 200
    assert send(http, provider, 2, headers={}).status_code == 401


@pytest.mark.fast
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/v1/nope", 404),
        ("POST", "/v1/send", 404),
        ("POST", "/v1/send/", 404),
        ("POST", "/v1/send/1/extra", 404),
        ("POST", "/v2/send/1", 404),
        ("GET", "/_nope", 404),
        ("GET", "/v1/send/1", 405),
    ],
)
def test_unknown_paths_are_404(http, provider, method, path, status):
    response = http.request(method, provider.control_url + path, headers=AUTH, timeout=TIMEOUT)

    assert response.status_code == status


# --------------------------------------------------------------------------- faults


@pytest.mark.fast
def test_error_rate_answers_5xx_and_counts_no_receipt(http, provider):
    provider.configure(error_rate=1)

    statuses = {send(http, provider, 1).status_code for _ in range(12)}

    assert statuses <= {500, 502, 503}
    assert provider.receipt(1) is None
    assert provider.stats()["by_outcome"] == {"error": 12}


@pytest.mark.fast
def test_garbage_rate_answers_200_with_an_unparseable_body(http, provider):
    provider.configure(garbage_rate=1)

    for _ in range(10):
        response = send(http, provider, 1)
        assert response.status_code == 200
        with pytest.raises(ValueError):
            json.loads(response.text)
    assert provider.receipt(1) is None


@pytest.mark.fast
def test_hang_stalls_past_the_client_timeout_then_closes(http, provider):
    provider.configure(hang_rate=1, hang_seconds=0.4)

    with pytest.raises(requests.ReadTimeout):
        send(http, provider, 1, timeout=(TIMEOUT, 0.1))
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):  # closed without an answer
        send(http, provider, 2)

    assert time.monotonic() - started >= 0.4
    assert provider.receipts()["total"] == 0
    assert provider.stats()["by_outcome"]["hang"] >= 1


@pytest.mark.fast
def test_outage_503_with_retry_after_then_recovers(http, provider):
    provider.configure(outage=True)

    response = send(http, provider, 1)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert control(http, provider).json()["outage"] is True  # control still answers

    control(http, provider, "POST", json={"outage": False}).raise_for_status()
    assert send(http, provider, 1).status_code == 200
    assert provider.receipt_count(1) == 1


@pytest.mark.fast
def test_outage_reset_mode_resets_the_connection(http, provider):
    provider.configure(outage=True, outage_mode="reset")

    with pytest.raises(requests.ConnectionError):
        send(http, provider, 1)
    assert provider.stats()["by_outcome"] == {"outage": 1}


@pytest.mark.fast
def test_rate_429_answers_429_with_retry_after(http, provider):
    provider.configure(rate_429=1, retry_after=7)

    response = send(http, provider, 1)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert provider.receipt(1) is None


@pytest.mark.fast
def test_latency_is_applied(http, provider):
    provider.configure(latency_ms=120)

    started = time.monotonic()
    assert send(http, provider, 1).status_code == 200

    assert time.monotonic() - started >= 0.12


@pytest.mark.fast
def test_delayed_requests_wait_concurrently(provider):
    provider.configure(latency_ms=300)
    barrier = threading.Barrier(12)

    def one(msg_id: int) -> None:
        with requests.Session() as session:
            barrier.wait()
            assert send(session, provider, msg_id).status_code == 200

    threads = [threading.Thread(target=one, args=(i,)) for i in range(1, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert provider.receipts()["unique"] == 12
    assert provider.stats()["max_in_flight"] >= 6  # they overlapped, not queued one by one


@pytest.mark.fast
def test_jitter_is_uniform_around_the_mean():
    config = ProviderConfig(latency_ms=50, latency_jitter_ms=20)
    rng = random.Random(1)

    delays = [_latency(config, rng) for _ in range(500)]

    assert all(0.030 <= d <= 0.070 for d in delays)
    assert min(delays) < 0.035 and max(delays) > 0.065
    assert _latency(ProviderConfig(latency_ms=5, latency_jitter_ms=50), rng) >= 0  # clamped


# --------------------------------------------------------------------------- control


@pytest.mark.fast
def test_control_shows_the_config_without_the_token(http, provider):
    config = control(http, provider).json()

    assert config["token_set"] is True
    assert "token" not in config
    assert TOKEN not in json.dumps(config)
    assert config["hang_seconds"] == 30


@pytest.mark.fast
def test_control_updates_a_subset(http, provider):
    response = control(http, provider, "POST", json={"latency_ms": 5, "error_rate": 0.25})

    assert response.status_code == 200
    assert response.json()["latency_ms"] == 5
    assert provider.config["error_rate"] == 0.25
    assert provider.config["outage"] is False


@pytest.mark.fast
@pytest.mark.parametrize(
    "changes",
    [
        {"nope": 1},
        {"error_rate": 1.5},
        {"garbage_rate": -0.1},
        {"hang_rate": "0.5"},
        {"rate_429": True},
        {"latency_ms": -1},
        {"hang_seconds": 0},
        {"outage": "yes"},
        {"outage_mode": "crash"},
        {"retry_after": 1.5},
        {"token": 5},
        {"latency_ms": 10, "error_rate": 2},  # one bad field rejects the whole update
    ],
)
def test_control_rejects_unknown_fields_and_bad_values(http, provider, changes):
    response = control(http, provider, "POST", json=changes)

    assert response.status_code == 400
    assert response.json()["message"]
    assert provider.config == ProviderConfig(token=TOKEN).public()
    with pytest.raises(ConfigError):
        provider.configure(**changes)


@pytest.mark.fast
@pytest.mark.parametrize("data", [b"not json", b"[1]", b""])
def test_control_rejects_a_body_that_is_not_an_object(http, provider, data):
    assert control(http, provider, "POST", data=data).status_code == 400


@pytest.mark.fast
def test_control_can_set_the_token(http, provider):
    control(http, provider, "POST", json={"token": "new-token"}).raise_for_status()

    assert send(http, provider, 1).status_code == 401
    assert send(http, provider, 1, headers={"Authorization": "Bearer new-token"}).ok


# --------------------------------------------------------------------------- records


@pytest.mark.fast
def test_receipts_count_each_accepted_send_per_msg_id(http, provider):
    send(http, provider, 1)
    send(http, provider, 1)
    send(http, provider, 2)

    receipts = control(http, provider, path="/_receipts").json()
    assert receipts["total"] == 3
    assert receipts["unique"] == 2
    assert receipts["receipts"]["1"]["count"] == 2
    assert receipts["receipts"]["1"]["first_at"] <= receipts["receipts"]["1"]["last_at"]
    assert control(http, provider, path="/_receipts/1").json()["count"] == 2
    assert control(http, provider, path="/_receipts/3").status_code == 404

    assert control(http, provider, "DELETE", "/_receipts").ok
    assert provider.receipts() == {"total": 0, "unique": 0, "receipts": {}}


@pytest.mark.fast
def test_faulted_requests_are_not_receipts(http, provider):
    for fault in ({"error_rate": 1}, {"garbage_rate": 1}, {"rate_429": 1}, {"outage": True}):
        provider.configure(**fault)
        send(http, provider, 1)
        provider.configure(**asdict(ProviderConfig(token=TOKEN)))
    send(http, provider, 1, headers={})
    send(http, provider, 1, phone=1)

    assert provider.receipt_count(1) == 0
    assert provider.stats()["total"] == 6


@pytest.mark.fast
def test_stats_and_request_log_record_every_api_request(http, provider):
    before = time.time()
    send(http, provider, 1)
    send(http, provider, 2, headers={})
    middle = time.time()
    provider.configure(error_rate=1)
    send(http, provider, 3)
    control(http, provider, path="/_stats")  # control traffic is not counted

    stats = control(http, provider, path="/_stats").json()
    assert stats["total"] == 3
    assert stats["by_status"]["200"] == 1
    assert stats["by_status"]["401"] == 1
    assert stats["in_flight"] == 0
    assert stats["last_request_at"] >= middle

    log = control(http, provider, path="/_requests").json()
    assert [r["id"] for r in log["requests"]] == [1, 2, 3]
    assert [r["outcome"] for r in log["requests"]] == ["ok", "unauthorized", "error"]
    assert all(before <= r["at"] <= time.time() for r in log["requests"])
    recent = control(http, provider, path=f"/_requests?since={middle}").json()["requests"]
    assert [r["id"] for r in recent] == [3]
    assert [r["id"] for r in provider.requests(limit=1)] == [3]

    assert control(http, provider, "DELETE", "/_stats").json()["total"] == 0
    assert control(http, provider, "DELETE", "/_requests").ok
    assert provider.requests() == []


@pytest.mark.fast
@pytest.mark.skipif(not KERNEL_STAMPS, reason="kernel receive timestamps are read on Linux only")
def test_a_request_is_stamped_when_it_reached_the_host_not_when_it_was_read(provider):
    """A provider descheduled for a while reads a backlog at once; the backlog keeps the
    times it arrived, so a sender's spacing is measured, not the provider's stall."""
    stall = threading.Event()
    provider._loop.call_soon_threadsafe(lambda: stall.wait(TIMEOUT))  # the loop stops
    sent_at, connections = [], []
    try:
        for msg_id in (1, 2):  # one connection each, as a client that does not pipeline
            conn = socket.create_connection(("127.0.0.1", provider.port), timeout=TIMEOUT)
            connections.append(conn)
            payload = json.dumps(body(msg_id)).encode()
            sent_at.append(time.time())
            conn.sendall(
                f"POST /v1/send/{msg_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}"
                f"\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
                + payload
            )
            time.sleep(0.3)
        stall.set()  # the loop reads both requests now, 0.6 s after the first left
        for conn in connections:
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        for conn in connections:
            conn.close()
    stamps = [r["at"] for r in sorted(provider.requests(), key=lambda r: r["id"])]
    assert len(stamps) == 2
    for sent, stamped in zip(sent_at, stamps, strict=True):
        assert sent <= stamped < sent + 0.1  # not sent + 0.6 and sent + 0.3
    assert stamps[1] - stamps[0] >= 0.3


@pytest.mark.fast
def test_request_log_is_bounded():
    with LocalProvider(request_log_size=3, check_token=False) as small, requests.Session() as http:
        for msg_id in range(1, 6):
            send(http, small, msg_id, headers={})
        log = requests.get(small.control_url + "/_requests", timeout=TIMEOUT).json()

    assert [r["id"] for r in log["requests"]] == [3, 4, 5]
    assert log["dropped"] == 2


# --------------------------------------------------------------------------- running it


@pytest.mark.fast
def test_stop_closes_the_port():
    provider = LocalProvider(check_token=False).start()
    url = provider.send_url(1)
    provider.stop()

    with pytest.raises(requests.ConnectionError):
        requests.post(url, json=body(1), timeout=TIMEOUT)


@pytest.mark.fast
def test_constructor_validates_the_config():
    with pytest.raises(ConfigError, match="error_rate"):
        LocalProvider(error_rate=3)


@pytest.mark.fast
def test_flags_are_defined_once_and_validated():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = ProviderConfig(latency_ms=20, error_rate=0.1, outage=True, check_token=False)

    options = vars(parser.parse_args(["--port", "0", *config_to_argv(config)]))
    host, port, parsed = settings_from_options(options | {"token": None})

    assert (host, port, parsed) == ("127.0.0.1", 0, config)
    with pytest.raises(ConfigError, match="garbage_rate must be a number between 0 and 1"):
        settings_from_options(vars(parser.parse_args(["--garbage-rate", "1.5"])))
    with pytest.raises(ConfigError, match="--port"):
        settings_from_options(vars(parser.parse_args(["--port", "70000"])))


@pytest.mark.fast
def test_module_entry_point_rejects_bad_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--hang-rate", "2"])

    assert exit_info.value.code == 2
    assert "hang_rate must be a number between 0 and 1" in capsys.readouterr().err


@pytest.mark.fast
def test_runprovider_command_rejects_bad_flags():
    pytest.importorskip("django")
    from django.core.management.base import CommandError

    from messaging.management.commands.runprovider import Command

    command = Command()
    options = command.create_parser("manage.py", "runprovider").parse_args(["--error-rate", "-1"])
    with pytest.raises(CommandError, match="error_rate must be a number between 0 and 1"):
        command.handle(**vars(options))


@pytest.mark.slow
def test_subprocess_prints_listening_serves_and_stops_on_sigint():
    process, url = start_subprocess(token="sub-token", stderr=subprocess.PIPE)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        response = requests.post(
            f"{url}/send/9",
            json=body(9),
            headers={"Authorization": "Bearer sub-token"},
            timeout=TIMEOUT,
        )
        assert response.json() == {"code": 0, "message": "OK"}
        receipts = requests.get(url.removesuffix("/v1") + "/_receipts", timeout=TIMEOUT).json()
        assert receipts["receipts"]["9"]["count"] == 1

        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        stop_subprocess(process)
        process.stderr.close()
