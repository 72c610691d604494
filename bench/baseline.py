"""Baselines against the same provider, with the engine's own transport, no database.

Run as a child process (`python -m bench.baseline ...`): it prints READY once set up, waits
for a line on stdin, sends `--count` messages and prints one JSON line with its start and
end times and its CPU time.

* `--concurrency N`: the bare loop. `AsyncProviderClient` (aiohttp on its asyncio loop
  thread, the sender's transport) with N requests in flight, submitted from this thread
  as the sender's database thread does, each body built by `request_body`: the ceiling
  the engine is compared with.
* `--one-at-a-time`: the naive sender, one blocking `ProviderClient.send` after another.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time


def bare_loop(client, *, first_id: int, count: int, concurrency: int) -> int:
    from messaging.provider import request_body

    slots = threading.BoundedSemaphore(concurrency)
    done = threading.Event()
    sent = [0, 0]  # sent, finished
    lock = threading.Lock()

    def finished(future) -> None:
        result = future.result()
        with lock:
            sent[0] += bool(result is not None and result.sent)
            sent[1] += 1
            if sent[1] == count:
                done.set()
        slots.release()

    for message_id in range(first_id, first_id + count):
        slots.acquire()
        body = request_body(message_id, "79001234567", "Bench")
        future = client.submit(message_id=message_id, body=body, deadline=lambda: None)
        future.add_done_callback(finished)
    done.wait()
    return sent[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--count", type=int, required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--concurrency", type=int, help="requests in flight (the bare loop)")
    mode.add_argument("--one-at-a-time", action="store_true")
    parser.add_argument("--max-connections", type=int, help="connection pool (the sender's)")
    parser.add_argument("--first-id", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from messaging.provider import AsyncProviderClient, ProviderClient

    if args.one_at_a_time:
        client = ProviderClient(url=args.url, token=args.token, read_timeout=10)
    else:
        client = AsyncProviderClient(
            url=args.url,
            token=args.token,
            max_connections=args.max_connections or args.concurrency,
        ).start()

    print("READY", flush=True)
    sys.stdin.readline()
    started = time.time()
    cpu = time.process_time()
    if args.one_at_a_time:
        sent = 0
        for message_id in range(args.first_id, args.first_id + args.count):
            sent += client.send(message_id=message_id, phone="79001234567", text="Bench").sent
    else:
        sent = bare_loop(
            client, first_id=args.first_id, count=args.count, concurrency=args.concurrency
        )
    ended = time.time()
    cpu = time.process_time() - cpu
    client.close()
    print(json.dumps({"started": started, "ended": ended, "sent": sent, "cpu": cpu}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
