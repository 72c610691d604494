"""A fast local fake of the external SMS provider (the "Probe" API).

Used by the dev server, the tests and the benchmarks instead of the real provider. Pure
Python with no Django imports, so it can be imported and tested without settings.

The contract (what the real provider speaks):

    POST /v1/send/{msgId}
    Authorization: Bearer <token>
    {"id": <int64, == msgId>, "phone": <int64, 11 digits>, "text": <string>}

    200 {"code": 0, "message": "OK"}      accepted: the only answer that counts as a receipt
    400 {"code": 400, "message": ...}     bad body (empty, not JSON, missing/wrong-typed field,
                                          id != msgId, phone not 11 digits) or bad msgId
    401 {"code": 401, "message": ...}     missing or wrong token (when token checking is on)
    404 / 405                             unknown path / wrong method

Fault injection (all settable by flags and at run time through POST /_control):

    latency_ms, latency_jitter_ms  each answer waits uniform(latency_ms - jitter, latency_ms +
                                   jitter) milliseconds, clamped at 0 (mean stays latency_ms
                                   while jitter <= latency_ms)
    hang_rate, hang_seconds        never answer; close the connection after hang_seconds
    error_rate                     answer 500, 502 or 503 at random
    rate_429, retry_after          answer 429 with "Retry-After: <retry_after>"
    garbage_rate                   answer 200 with a body that is not valid JSON
    outage, outage_mode            every API request gets 503 + Retry-After ("503") or a TCP
                                   reset ("reset"); the control endpoints keep working
    token, check_token             expected bearer token; with no token set, any non-empty
                                   bearer token is accepted; check_token=false skips the check

Each rate is the probability of that fault for a request that got as far as its check. The
checks run in this order: outage, token, body validation, hang, error, 429, garbage, so with
one fault set at a time its rate is exact. Latency applies to every /v1/send answer except
outages and hangs.

Control endpoints (no token needed; not counted in stats or the request log):

    GET  /_control                 current config (the token is never shown: "token_set")
    POST /_control                 update any subset of the config fields; 400 on unknown
                                   fields or bad values
    GET  /_receipts                {"total": N, "unique": M, "receipts": {"<msgId>": {...}}}
    GET  /_receipts/{msgId}        one entry, 404 if none
    DELETE /_receipts              clear receipts
    GET  /_stats, DELETE /_stats   counters by status and outcome, in-flight requests
    GET  /_requests[?since=EPOCH&limit=N], DELETE /_requests
                                   arrival time of each API request (bounded list)
    GET  /_health                  {"status": "ok"}

Run it: `python -m localprovider --port 0` prints `LISTENING http://HOST:PORT/v1`
once ready; from Python use `LocalProvider` (a background thread) or `start_subprocess`.
"""

from localprovider.cli import add_arguments, main, settings_from_options, setup_logging
from localprovider.config import ConfigError, ProviderConfig
from localprovider.protocol import plan_send
from localprovider.runner import (
    LocalProvider,
    base_url,
    config_to_argv,
    serve_forever,
    start_subprocess,
    stop_subprocess,
)

__all__ = [
    "ConfigError",
    "LocalProvider",
    "ProviderConfig",
    "add_arguments",
    "base_url",
    "config_to_argv",
    "main",
    "plan_send",
    "serve_forever",
    "settings_from_options",
    "setup_logging",
    "start_subprocess",
    "stop_subprocess",
]
