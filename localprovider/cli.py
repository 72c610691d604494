"""The command line (`python -m localprovider`, `manage.py runprovider`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, cast

from localprovider.config import (
    CONFIG_FIELDS,
    DEFAULT_HOST,
    DEFAULT_PORT,
    LOG_LEVELS,
    OUTAGE_MODES,
    ConfigError,
    ProviderConfig,
)
from localprovider.runner import serve_forever

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags, shared by `python -m localprovider` and `manage.py runprovider`."""
    defaults = ProviderConfig()
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port, 0 for any free one (%(default)s)"
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("PROVIDER_TOKEN") or None,
        help="expected bearer token (default: $PROVIDER_TOKEN); empty accepts any token",
    )
    parser.add_argument(
        "--no-check-token",
        dest="check_token",
        action="store_false",
        help="accept requests without checking the Authorization header",
    )
    number_flags = (
        ("--latency-ms", float, "mean answer delay in ms"),
        ("--latency-jitter-ms", float, "delay varies uniformly by +- this many ms"),
        ("--error-rate", float, "fraction answered 500/502/503"),
        ("--garbage-rate", float, "fraction answered 200 with a malformed body"),
        ("--hang-rate", float, "fraction never answered (closed after --hang-seconds)"),
        ("--hang-seconds", float, "how long a hung request stalls"),
        ("--rate-429", float, "fraction answered 429 with Retry-After"),
        ("--retry-after", int, "Retry-After seconds on 429 and outage 503s"),
    )
    for flag, kind, text in number_flags:
        dest = flag[2:].replace("-", "_")
        parser.add_argument(
            flag, type=kind, default=getattr(defaults, dest), help=f"{text} (%(default)s)"
        )
    parser.add_argument(
        "--outage", action="store_true", help="start in an outage: every API request fails"
    )
    parser.add_argument(
        "--outage-mode",
        choices=OUTAGE_MODES,
        default=defaults.outage_mode,
        help="503 with Retry-After, or reset the connection (%(default)s)",
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="INFO", help="(%(default)s)")


def settings_from_options(options: Mapping[str, Any]) -> tuple[str, int, ProviderConfig]:
    """(host, port, config) from parsed flags; raises ConfigError with a clear message."""
    problems = []
    host = options.get("host") or ""
    if not host.strip():
        problems.append("--host must not be empty")
    port = options.get("port")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        problems.append(f"--port must be in 0..65535, got {port!r}")
    try:
        config = ProviderConfig().updated({k: options[k] for k in CONFIG_FIELDS if k in options})
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems))
    return host, cast(int, port), config  # an int in range, or a problem raised above


def setup_logging(level: str) -> None:
    """Log to stderr unless the host program (Django) already set up logging."""
    log.setLevel(level)
    if not logging.getLogger().handlers and not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localprovider",
        description="Run the local fake SMS provider (the Probe API).",
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        host, port, config = settings_from_options(options)
    except ConfigError as exc:
        parser.error(str(exc))
    setup_logging(options["log_level"])
    try:
        serve_forever(
            config,
            host,
            port,
            on_listening=lambda url: print(f"LISTENING {url}", flush=True),
        )
    except OSError as exc:  # e.g. the port is taken: one clear line, no traceback
        print(f"cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0
