"""Rule 8: which signals stop the cluster. Any process of it taking SIGTERM or SIGINT asks
the whole cluster to stop (one shared flag, set without a lock); a worker that django-q2
itself ends after Q_TIMEOUT does not. The real processes: test_rule_08_graceful_stop.py."""

from __future__ import annotations

import signal

import pytest
from django_q.signals import post_execute_in_worker

from messaging.engine import shutdown


@pytest.fixture
def flag(monkeypatch):
    """A stop flag of this test's own (as `manage.py qcluster` installs one)."""
    for name in ("_flag", "_signum", "_ignore_signals"):
        monkeypatch.setattr(shutdown, name, getattr(shutdown, name))
    shutdown._ignore_signals = False
    shutdown.install()
    return shutdown


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_any_process_asks_the_cluster_to_stop_and_says_which(flag, signum):
    assert not flag.requested()
    flag._on_signal(signum, None)
    assert flag.requested()
    assert flag.reason() == signal.Signals(signum).name


def test_a_worker_ended_by_django_q2_after_its_timeout_does_not_stop_the_cluster(flag):
    post_execute_in_worker.send(
        sender="django_q",
        func="messaging.tasks.pump",
        task={
            "success": False,
            "result": "Task exceeded maximum timeout value (300 seconds) : Traceback (most "
            "recent call last): ... django_q.exceptions.TimeoutException: Task exceeded",
        },
    )
    flag._on_signal(signal.SIGTERM, None)  # what django-q2's guard sends it next
    assert not flag.requested()


def test_a_task_that_failed_otherwise_leaves_signals_as_they_are(flag):
    post_execute_in_worker.send(
        sender="django_q", func="messaging.tasks.tick", task={"success": False, "result": "x"}
    )
    flag._on_signal(signal.SIGTERM, None)
    assert flag.requested()
