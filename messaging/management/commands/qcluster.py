"""`manage.py qcluster`, Herald's way: django-q2's cluster plus a graceful stop and a clock.

It replaces django-q2's command of the same name (the messaging app is listed
before django_q, so Django finds this one first) and adds two things:

* **Graceful stop.** On SIGTERM or SIGINT it first tells every sender in the
  cluster's worker processes to stop (`engine.shutdown`): each stops claiming,
  lets its requests in flight finish (bounded by the provider timeouts), records
  them and hands its unsent claims back. Then django-q2 stops as usual. With the
  default settings the cluster exits within about 15 s, well inside the 40 s
  grace compose and Kubernetes give it.
* **A clock** (`engine.clock`): a thread that starts each scheduled campaign at
  its `start_at`, not when django-q2's scheduler next wakes (every 30 s).
"""

from __future__ import annotations

import logging
import signal
import threading

from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from messaging.engine import clock, shutdown

log = logging.getLogger("messaging.worker")


class Command(DjangoQCommand):
    help = "Start the worker cluster (django-q2) with Herald's graceful stop and start clock."

    def handle(self, *args, **options):
        # Before django-q2 forks anything: every worker process inherits the event.
        shutdown.install()
        cluster = Cluster()
        stop_clock = threading.Event()

        def stop(signum, frame):
            if not shutdown.requested():
                log.info(
                    "worker stopping on %s: senders finish their requests in flight",
                    signal.Signals(signum).name,
                )
            shutdown.request()
            stop_clock.set()
            cluster.sig_handler(signum, frame)

        # Replaces the handlers django-q2's Cluster() just installed (and then calls them).
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        cluster.start()
        # Forked processes are all started: a thread in this process is safe now.
        threading.Thread(
            target=clock.run, args=(stop_clock,), name="herald-clock", daemon=True
        ).start()
        if options.get("run_once", False):
            shutdown.request()
            stop_clock.set()
            cluster.stop()
            return
        # Wait here (signals are handled in this thread) until the cluster has stopped.
        while cluster.sentinel is not None and cluster.sentinel.is_alive():
            cluster.sentinel.join(timeout=0.5)
