"""Baselines against the same provider, with the same HTTP client as the engine, no database.

Run as a child process (`python -m bench.baseline ...`): it prints READY once set up, waits
for a line on stdin, sends `--count` messages with `--threads` threads (1 = the one-at-a-time
loop a naive sender is), and prints one JSON line with its start and end times.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--first-id", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from messaging.provider import ProviderClient

    client = ProviderClient(url=args.url, token=args.token, read_timeout=10, pool_size=args.threads)
    ids = iter(range(args.first_id, args.first_id + args.count))
    sent = [0] * args.threads

    def loop(worker: int) -> None:
        for message_id in ids:  # one shared iterator: next() is atomic under the GIL
            result = client.send(message_id=message_id, phone="79001234567", text="Bench")
            sent[worker] += result.sent

    print("READY", flush=True)
    sys.stdin.readline()
    started = time.time()
    cpu = time.process_time()
    if args.threads == 1:
        loop(0)
    else:
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(loop, range(args.threads)))
    ended = time.time()
    cpu = time.process_time() - cpu
    print(
        json.dumps({"started": started, "ended": ended, "sent": sum(sent), "cpu": cpu}), flush=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
