"""`manage.py qcluster`, Herald's way: django-q2's cluster plus a graceful stop and a clock.

It replaces django-q2's command of the same name (the messaging app is listed
before django_q, so Django finds this one first) and adds two things:

* **Graceful stop, however it is asked for.** SIGTERM or SIGINT to the main process,
  to the whole process group (systemd's default KillMode=control-group, supervisord's
  stopasgroup, `kill -TERM -- -PGID`, Ctrl-C) or to one worker process alone sets one
  flag shared by every process of the cluster (`engine.shutdown`): each sender stops
  claiming, lets its requests in flight finish (bounded by the provider timeouts),
  records them and hands its unsent claims back; then this process stops django-q2's
  cluster in order. With the default settings the cluster exits within about 15 s,
  well inside the 40 s grace compose, Kubernetes and the systemd unit in docs/deployment.md
  give it. django-q2 alone could not: its sentinel, the process that forks and guards
  the others, and everything it forks, die at once on SIGTERM (`HeraldSentinel`
  below makes them take it as a request to stop instead).
* **A clock** (`engine.clock`): a thread that starts each scheduled campaign at
  its `start_at`, not when django-q2's scheduler next wakes (every 30 s), and
  finishes one as soon as a sender nudges it (`engine.nudge`).
"""

from __future__ import annotations

import logging
import threading

import django_q.cluster
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from messaging.engine import clock, nudge, shutdown

log = logging.getLogger("messaging.worker")

WAIT_SECONDS = 0.2  # how often this process looks for a stop request


class HeraldSentinel(django_q.cluster.Sentinel):
    """django-q2's sentinel, and everything it forks, taking SIGTERM and SIGINT as a
    request to stop (its __init__ has just made SIGTERM fatal and SIGINT ignored)."""

    def start(self) -> None:
        shutdown.handle_signals()
        super().start()


class Command(DjangoQCommand):
    help = "Start the worker cluster (django-q2) with Herald's graceful stop and start clock."

    def handle(self, *args, **options):
        # Before django-q2 forks anything: every process of the cluster shares the flag.
        shutdown.install()
        nudge.install()
        # django-q2's Cluster names the sentinel's class when it starts it.
        django_q.cluster.Sentinel = HeraldSentinel
        cluster = Cluster()
        # Replaces the handlers django-q2's Cluster() just installed: a signal only sets
        # the flag, and the stop itself happens below, outside the handler.
        shutdown.handle_signals()
        cluster.start()
        stop_clock = threading.Event()
        # Forked processes are all started: a thread in this process is safe now.
        threading.Thread(
            target=clock.run, args=(stop_clock,), name="herald-clock", daemon=True
        ).start()
        if options.get("run_once", False):
            shutdown.request()
        while cluster.sentinel is not None and cluster.sentinel.is_alive():
            if shutdown.requested():
                log.info(
                    "worker stopping on %s: senders finish their requests in flight",
                    shutdown.reason(),
                )
                stop_clock.set()
                cluster.stop()  # returns once the sentinel has stopped every process
                break
            cluster.sentinel.join(timeout=WAIT_SECONDS)
        stop_clock.set()
