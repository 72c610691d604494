"""Running the provider: in a thread of this process (tests), or as a subprocess (benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

from localprovider.config import (
    CONFIG_FIELDS,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REQUEST_LOG_SIZE,
    ProviderConfig,
    _describe_changes,
)
from localprovider.server import _ProviderServer
from localprovider.state import ProviderState

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- running it


def base_url(host: str, port: int) -> str:
    """The base URL handed to the app (it posts to `{base}/send/{msgId}`)."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - a wildcard bind is reached over loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/v1"


def serve_forever(
    config: ProviderConfig,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    on_listening: Callable[[str], None] | None = None,
    request_log_size: int = DEFAULT_REQUEST_LOG_SIZE,
) -> None:
    """Serve in the calling (main) thread until SIGINT or SIGTERM, then shut down cleanly."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = _ProviderServer(ProviderState(config, request_log_size))
        bound_port = await server.start(host, port)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not in the main thread or no signal support: KeyboardInterrupt still stops it.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        url = base_url(host, bound_port)
        log.info(
            "Local provider listening on %s (%s loop); config: %s",
            url,
            type(loop).__module__.split(".")[0],
            _describe_changes(asdict(config)),
        )
        if on_listening is not None:
            on_listening(url)
        await stop.wait()
        log.info("Local provider stopping")
        await server.close()

    # Ctrl-C before the signal handler was in place: still no traceback.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class LocalProvider:
    """The provider in a background thread, for tests and other in-process code.

    with LocalProvider(token="t", latency_ms=20) as provider:
        requests.post(f"{provider.url}/send/1", ...)
        provider.configure(error_rate=1)
        provider.receipts()
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        request_log_size: int = DEFAULT_REQUEST_LOG_SIZE,
        **config: Any,
    ) -> None:
        self.host = host
        self.port = port
        self._state = ProviderState(ProviderConfig().updated(config), request_log_size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self, timeout: float = 10.0) -> LocalProvider:
        """Start serving; returns once the socket listens (port=0 picks a free port)."""
        if self._thread is not None:
            raise RuntimeError("the provider is already running")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="local-provider", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("the local provider did not start in time")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        server = _ProviderServer(self._state)
        try:
            self.port = loop.run_until_complete(server.start(self.host, self.port))
        except BaseException as exc:
            failure.append(exc)
            loop.close()
            ready.set()
            return
        self._loop = loop
        log.info("Local provider listening on %s", self.url)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(server.close())
            self._loop = None
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close every connection (hung ones included)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> LocalProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._loop is not None

    @property
    def url(self) -> str:
        """The base URL for the app: `http://127.0.0.1:PORT/v1`."""
        return base_url(self.host, self.port)

    @property
    def control_url(self) -> str:
        """Where the control endpoints live: `http://127.0.0.1:PORT`."""
        return self.url.removesuffix("/v1")

    def send_url(self, msg_id: int) -> str:
        return f"{self.url}/send/{msg_id}"

    # -- control and reports (run on the server's loop, so no locking is needed)

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = self._loop
        if loop is None:
            return fn(*args)  # not serving: nothing else touches the state
        future: Future[Any] = Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=30)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change any subset of the config; raises ConfigError. Returns the new config."""
        return self._call(self._state.configure, changes)

    @property
    def config(self) -> dict[str, Any]:
        return self._call(self._state.config.public)

    def receipts(self) -> dict[str, Any]:
        """Same shape as GET /_receipts: {"total", "unique", "receipts": {"<msgId>": {...}}}."""
        return self._call(self._state.receipts_json)

    def receipt(self, msg_id: int) -> dict[str, Any] | None:
        return self._call(self._state.receipt_json, msg_id)

    def receipt_count(self, msg_id: int) -> int:
        receipt = self.receipt(msg_id)
        return 0 if receipt is None else receipt["count"]

    def clear_receipts(self) -> None:
        self._call(self._state.clear_receipts)

    def stats(self) -> dict[str, Any]:
        return self._call(self._state.stats_json)

    def requests(self, since: float | None = None, limit: int | None = None) -> list[dict]:
        """API requests as {"id", "at" (epoch seconds), "status", "outcome"}, oldest first."""
        return self._call(self._state.requests_json, since, limit)["requests"]

    def reset(self) -> None:
        """Forget receipts, counters and the request log (the config stays)."""
        self._call(self._state.reset)


# --------------------------------------------------------------------------- subprocess helper

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def config_to_argv(config: ProviderConfig) -> list[str]:
    """Flags reproducing `config`, except the token (passed through the environment)."""
    argv = []
    for name in CONFIG_FIELDS:
        value = getattr(config, name)
        if name == "token":
            continue
        if name == "check_token":
            argv += [] if value else ["--no-check-token"]
        elif name == "outage":
            argv += ["--outage"] if value else []
        else:
            argv += ["--" + name.replace("_", "-"), str(value)]
    return argv


def start_subprocess(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    timeout: float = 15.0,
    log_level: str = "WARNING",
    stderr: Any = None,
    extra_args: Sequence[str] = (),
    **config: Any,
) -> tuple[subprocess.Popen[str], str]:
    """Run the provider as `python -m localprovider`; returns (process, base URL).

    Waits for its LISTENING line. Stop it with `stop_subprocess` (or terminate()).
    """
    cfg = ProviderConfig().updated(config)
    argv = [sys.executable, "-m", "localprovider", "--host", host, "--port", str(port)]
    argv += ["--log-level", log_level, *config_to_argv(cfg), *extra_args]
    env = dict(os.environ)
    env["PROVIDER_TOKEN"] = cfg.token or ""  # not on the command line, where `ps` shows it
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        argv, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=PROJECT_ROOT, text=True
    )
    try:
        url = _wait_for_listening(process, timeout)
    except BaseException:
        stop_subprocess(process)
        raise
    return process, url


def _wait_for_listening(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"the provider did not print LISTENING within {timeout} s")
        readable, _, _ = select.select([process.stdout], [], [], min(left, 0.5))
        if readable:
            line = process.stdout.readline()
            if line.startswith("LISTENING "):
                return line.split(maxsplit=1)[1].strip()
            if not line and process.poll() is not None:
                raise RuntimeError(f"the provider exited with code {process.returncode}")
        elif process.poll() is not None:
            raise RuntimeError(f"the provider exited with code {process.returncode}")


def stop_subprocess(process: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """SIGTERM, wait, SIGKILL if it lingers; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode
