"""Requests per second the local provider serves to N concurrent keep-alive clients.

    .venv/bin/python bench/provider_rps.py                      # 64 clients, 0 ms, 5 s
    .venv/bin/python bench/provider_rps.py --latency-ms 20
    .venv/bin/python bench/provider_rps.py --url http://127.0.0.1:8001/v1 --token T

Without --url it starts the provider as a subprocess (so client and server do not share a
GIL) and stops it afterwards. The client is a raw asyncio HTTP/1.1 client, much cheaper than
`requests`, so that the figure measures the provider. Bounded by --duration and --max-requests;
it only ever talks to a loopback address.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from localprovider import start_subprocess, stop_subprocess

PHONE = 79001234567


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _client(
    host: str,
    port: int,
    path_prefix: str,
    token: str,
    worker: int,
    deadline: float,
    budget: list[int],
    counts: dict[str, int],
    latencies: list[float],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        sequence = 0
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            sequence += 1
            msg_id = worker * 1_000_000_000 + sequence
            body = json.dumps({"id": msg_id, "phone": PHONE, "text": "bench"}).encode()
            head = (
                f"POST {path_prefix}/send/{msg_id} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + body)
            response_head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in response_head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            answer = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            ok = response_head.startswith(b"HTTP/1.1 200") and answer.startswith(b'{"code": 0,')
            counts["ok" if ok else "other"] += 1
    finally:
        writer.close()


async def _run(url: str, token: str, concurrency: int, duration: float, max_requests: int) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 80
    if not _is_loopback(host):
        raise SystemExit(f"refusing to load {host}: only loopback addresses are allowed")
    counts = {"ok": 0, "other": 0}
    latencies: list[float] = []
    budget = [max_requests]
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(
        *(
            _client(host, port, parts.path, token, i + 1, deadline, budget, counts, latencies)
            for i in range(concurrency)
        )
    )
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "requests": counts["ok"] + counts["other"],
        "ok": counts["ok"],
        "other": counts["other"],
        "seconds": elapsed,
        "rps": (counts["ok"] + counts["other"]) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running provider (default: start one)")
    parser.add_argument("--token", default="bench-token")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (max 60)")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="for a started provider")
    args = parser.parse_args()
    if not 0 < args.duration <= 60 or not 0 < args.concurrency <= 1000:
        parser.error("--duration must be in (0, 60] and --concurrency in 1..1000")

    process = None
    url = args.url
    if url is None:
        process, url = start_subprocess(token=args.token, latency_ms=args.latency_ms)
    try:
        result = asyncio.run(
            _run(url, args.token, args.concurrency, args.duration, args.max_requests)
        )
        stats_url = url.removesuffix("/v1") + "/_stats"
        with urllib.request.urlopen(stats_url, timeout=10) as answer:  # noqa: S310 - loopback
            server_stats = json.load(answer)
    finally:
        if process is not None:
            stop_subprocess(process)
    print(
        f"provider_rps: concurrency={args.concurrency} latency_ms={args.latency_ms:g} "
        f"requests={result['requests']} ok={result['ok']} other={result['other']} "
        f"seconds={result['seconds']:.2f} rps={result['rps']:.0f} "
        f"p50_ms={result['p50_ms']:.1f} p99_ms={result['p99_ms']:.1f} "
        f"server_max_in_flight={server_stats['max_in_flight']}"
    )
    return 0 if result["other"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
