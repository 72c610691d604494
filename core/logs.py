"""Log lines findable by id, with secrets scrubbed.

A line about a campaign, a message or a client carries its ids as fields of the
record: the call passes them (`extra=ids(job)` for a message, or
`extra={"campaign_id": ...}`), or the work runs inside `log_context(campaign_id=...)`
(a request, once its URL is resolved) and every line logged inside gets them. The
ids are never written into the message text, so nothing reads them back out of it.

With LOG_FORMAT=json the ids are top-level keys (`jq 'select(.message_id == 42)'`);
with LOG_FORMAT=text the line ends with them as ` campaign_id=12 message_id=42
client_id=3` (`grep -E 'message_id=42( |$)'`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import Protocol

from django.core.signals import setting_changed
from django.dispatch import receiver

ID_FIELDS = ("campaign_id", "message_id", "client_id")
# An immutable mapping, replaced (never changed) when ids are added.
_context: contextvars.ContextVar[MappingProxyType] = contextvars.ContextVar(
    "herald_log_ids", default=MappingProxyType({})
)


class AboutAMessage(Protocol):
    """The engine's Job, or anything else that names a message."""

    @property
    def campaign_id(self) -> int: ...
    @property
    def message_id(self) -> int: ...
    @property
    def client_id(self) -> int | None: ...


def ids(job: AboutAMessage) -> dict[str, int | None]:
    """The `extra=` of a line about one message: its campaign, message and client ids.

    A dict built per call: on a hot path, ask `log.isEnabledFor(level)` first so that a
    line that is not logged costs no more than the check.
    """
    return {
        "campaign_id": job.campaign_id,
        "message_id": job.message_id,
        "client_id": job.client_id,
    }


def _with(given: dict[str, int | None]) -> MappingProxyType:
    return MappingProxyType({**_context.get(), **{k: v for k, v in given.items() if v is not None}})


@contextmanager
def log_context(**given: int | None) -> Iterator[None]:
    """Add these ids to every line logged inside the block (in this thread or task)."""
    token = _context.set(_with(given))
    try:
        yield
    finally:
        _context.reset(token)


def bind(**given: int | None) -> None:
    """Add ids to the current context (a request's ids, once its URL is resolved)."""
    _context.set(_with(given))


class IdsFilter(logging.Filter):
    """Give each record logged inside `log_context` the context's ids as fields (those
    its call did not pass in `extra=`). Outside any context it does nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        if context:
            fields = record.__dict__
            for key, value in context.items():
                if fields.get(key) is None:
                    fields[key] = value
        return True


def id_text(record: logging.LogRecord) -> str:
    """The record's ids as text, ` campaign_id=12 message_id=4711 client_id=305` (those
    it has), for the end of a text line."""
    fields = record.__dict__
    return "".join([f" {key}={fields[key]}" for key in ID_FIELDS if fields.get(key) is not None])


# `Bearer <anything>` and a DRF key (`Token` and 40 hex digits); not the word "token".
_CREDENTIALS = r"(?i:\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}|\b(token)\s+[0-9a-f]{40}\b)"
REDACTED = "[REDACTED]"


@functools.cache
def _pattern() -> re.Pattern:
    """The configured secrets and the credential forms in one pattern (built once)."""
    from django.conf import settings

    names = (
        "PROVIDER_TOKEN",
        "METRICS_TOKEN",
        "EMAIL_HOST_PASSWORD",
        "AUTH0_CLIENT_SECRET",
        "SECRET_KEY",
    )
    values = [getattr(settings, name, "") for name in names]
    # Very short values would scrub ordinary words; they are not secrets worth the name.
    secrets = sorted(
        {v for v in values if isinstance(v, str) and len(v) >= 6}, key=len, reverse=True
    )
    alternatives = [re.escape(secret) for secret in secrets] + [_CREDENTIALS]
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


@receiver(setting_changed)
def _forget_secrets(**kwargs) -> None:
    _pattern.cache_clear()


def _scrub(match: re.Match) -> str:
    word = match.group(1) or match.group(2)
    return f"{word} {REDACTED}" if word else REDACTED


def redact(text: str) -> str:
    return _pattern().sub(_scrub, text)


class RedactFilter(logging.Filter):
    """A safety net: no line leaves with a bearer token or a configured secret in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Kept formatted (and clean): the formatter reads the text again.
        record.msg, record.args = redact(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            clean = redact(record.exc_text)
            if clean != record.exc_text:
                # Formatters (the JSON one too) print exc_text when exc_info is gone.
                record.exc_text, record.exc_info = clean, None
        return True


# Every character a terminal, `less` or a log shipper may take for the end of a line.
_LINE_BREAKS = str.maketrans(
    {ch: ascii(ch)[1:-1] for ch in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}
)


_ANY_LINE_BREAK = re.compile("[" + re.escape("".join(map(chr, _LINE_BREAKS))) + "]")


def one_line(text: str) -> str:
    """The text with its line breaks written as escapes (`\\r\\n`).

    Looked for first: nearly no line has one, and a search is a fifth of the cost of a
    translate (0.5 against 2.3 us a line, at two lines per message sent)."""
    if _ANY_LINE_BREAK.search(text) is None:
        return text
    return text.translate(_LINE_BREAKS)


class OneLineFormatter(logging.Formatter):
    """LOG_FORMAT=text: one event, one line, ending with the record's ids
    (` campaign_id=12 message_id=4711 client_id=305`). A value with a line break in it (a
    request path with %0d%0a, a user name typed at sign-in) is written escaped, so it
    cannot begin a line of its own that reads as another event. A traceback keeps its
    lines: it comes after the event's line. (JSON lines escape line breaks by themselves,
    and have the ids as keys of their own.)"""

    default_msec_format: str  # logging.Formatter's "%s,%03d", never None here

    def formatMessage(self, record: logging.LogRecord) -> str:
        return one_line(super().formatMessage(record) + id_text(record))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The default time format, its date and clock made once a second (strftime was
        a tenth of the cost of a line)."""
        if datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        stamp = self._stamp  # one tuple, replaced whole: safe across threads
        if stamp[0] != second:
            stamp = (second, time.strftime(self.default_time_format, self.converter(second)))
            self._stamp = stamp
        return self.default_msec_format % (stamp[1], record.msecs)

    _stamp: tuple[int, str] = (-1, "")


class BatchedStreamHandler(logging.StreamHandler):
    """The console handler: lines written in batches, at most `max_delay` seconds late.

    A sender logs two lines per provider request, thousands a second. Written one by
    one, each line is a write() that also hands the GIL to the provider client's loop
    thread and waits to get it back; the profile of a sender showed that write as its
    costliest single line. Here a line is formatted at once (the filters and the
    formatter see it as before) and kept; the lines go out in one write when a WARNING
    or worse arrives, when `max_bytes` are waiting, when the oldest has waited
    `max_delay` (checked at each line, and by a small thread for the last lines before
    a quiet spell), and at exit (logging.shutdown, or that thread when the main thread
    ends). The price: a process killed with SIGKILL loses its last `max_delay` seconds
    of INFO lines.
    """

    def __init__(self, stream=None, max_delay: float = 0.2, max_bytes: int = 64 * 1024) -> None:
        super().__init__(stream)
        self.max_delay = max_delay
        self.max_bytes = max_bytes
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._oldest = 0.0
        self._flusher_pid = 0
        _BATCHED.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        self.acquire()
        try:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append(line)
            self._pending_bytes += len(line)
            due = (
                record.levelno >= logging.WARNING
                or self._pending_bytes >= self.max_bytes
                or time.monotonic() - self._oldest >= self.max_delay
            )
            if due:
                self._write_pending()
        finally:
            self.release()
        if not due:
            self._ensure_flusher()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()

    def _write_pending(self) -> None:
        """Write what is waiting (the caller holds the handler's lock)."""
        if getattr(self.stream, "closed", False):
            return  # at exit, after a test runner closed its captured stderr: nowhere to go
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            try:
                self.stream.write(text)
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": text[:200]}))
        if self.stream and hasattr(self.stream, "flush"):
            self.stream.flush()

    def _ensure_flusher(self) -> None:
        """One flushing thread per process (a forked worker starts its own)."""
        pid = os.getpid()
        if self._flusher_pid == pid:
            return
        self._flusher_pid = pid
        # Not a daemon: at exit the interpreter (and multiprocessing's children, which skip
        # atexit and so logging.shutdown) waits for it, and it writes the last lines once
        # the main thread is done.
        threading.Thread(target=self._flush_now_and_then, name="log-flusher").start()

    def _flush_now_and_then(self) -> None:
        pid = os.getpid()
        main = threading.main_thread()
        while self._flusher_pid == pid and main.is_alive():
            time.sleep(min(self.max_delay, 0.1))
            if self._pending and time.monotonic() - self._oldest >= self.max_delay:
                self._flush_quietly()
        if self._flusher_pid == pid:
            self._flush_quietly()

    def _flush_quietly(self) -> None:
        # As logging.shutdown does: at exit the stream may be closed already (a test
        # runner's captured stderr, a pipe whose reader went away).
        with contextlib.suppress(OSError, ValueError):
            self.flush()

    def _forget_after_fork(self) -> None:
        """In a forked child: the parent's waiting lines are the parent's to write."""
        self._pending.clear()
        self._pending_bytes = 0
        self._flusher_pid = 0


_BATCHED: weakref.WeakSet[BatchedStreamHandler] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for handler in list(_BATCHED):
        handler._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
