"""Rule 8: a stopped worker finishes what is in flight, records it, hands back the rest and
exits within 30 s; a deploy re-sends nothing. However the stop is asked for: SIGTERM to
the main process (Kubernetes, compose), to the whole process group (systemd's default
KillMode=control-group, as the systemd unit in docs/deployment.md; supervisord's
stopasgroup) or to one worker process alone."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Campaign, CampaignCounts, CampaignStatus, Message, MessageStatus
from tests.engine.conftest import make_clients
from tests.support.cluster import running_cluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The README's systemd unit: TimeoutStopSec=40, then SIGKILL to what is left. The test
# gives 30 s, the bound the rule promises, before calling it a hang.
STOP_BOUND_SECONDS = 30


def wait_for(condition, timeout: float, what: str, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"cluster died: {proc.log()[-3000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def a_worker_sending(cluster) -> int:
    """The pid of a django-q2 worker process running a sender, read from its log."""
    log = cluster.log()
    pids = dict(re.findall(r"(Process-\w+) ready for work at (\d+)", log))
    for name in re.findall(r"(Process-\w+) processing pump-\d+", log):
        if name in pids:
            return int(pids[name])
    raise AssertionError(f"no worker is running a sender: {log[-3000:]}")


def stop_by_signal(cluster, how: str) -> None:
    if how == "main process":  # what Kubernetes and compose send to PID 1
        os.kill(cluster.pid, signal.SIGTERM)
    elif how == "process group":  # systemd's KillMode=control-group, kill -TERM -- -PGID
        os.killpg(cluster.pid, signal.SIGTERM)
    else:  # someone (or something) stops one worker process
        os.kill(a_worker_sending(cluster), signal.SIGTERM)


@pytest.mark.parametrize("how", ["main process", "process group", "one worker"])
def test_sigterm_mid_campaign_finishes_in_flight_hands_back_the_rest_and_exits(provider, how):
    # Slow answers and a few hangs: requests are in flight when the signal comes.
    provider.configure(latency_ms=300, hang_rate=0.02, hang_seconds=60)
    make_clients(3000)
    now = timezone.now()
    campaign = services.create_campaign(
        values={
            "text": "Graceful",
            "start_at": now - timedelta(seconds=1),
            "end_at": now + timedelta(minutes=10),
        }
    )
    env = {"ENGINE_PUMPS": "2", "Q_WORKERS": "3", "PROVIDER_CONCURRENCY": "200"}
    with running_cluster(provider.url, **env) as cluster:
        wait_for(
            lambda: CampaignCounts.objects.get(pk=campaign.pk).sent >= 300,
            60,
            "sending to get going",
            cluster,
        )
        assert CampaignCounts.objects.get(pk=campaign.pk).sending > 0  # mid-campaign
        signalled = time.monotonic()
        stop_by_signal(cluster, how)
        try:
            cluster.wait(timeout=STOP_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the cluster still ran {STOP_BOUND_SECONDS} s after SIGTERM to the {how}: "
                f"{cluster.log()[-3000:]}"
            ) from None
        stopped_after = time.monotonic() - signalled
        log = cluster.log()
    print(f"SIGTERM to the {how}: cluster stopped {stopped_after:.1f}s after it")
    assert cluster.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert "reincarnated" not in log, log[-3000:]  # no process of the cluster died
    # Nothing is left in flight: every request was recorded or its message handed back.
    assert not Message.objects.filter(status=MessageStatus.SENDING).exists()
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert counts.sent < 3000  # the stop came mid-campaign
    receipts_at_stop = provider.receipts()
    assert receipts_at_stop["unique"] == counts.sent  # recorded exactly what was accepted

    provider.configure(hang_rate=0.0, latency_ms=20)
    with running_cluster(provider.url, **env) as cluster:
        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED,
            120,
            "the campaign to finish after the restart",
            cluster,
        )
    counts = CampaignCounts.objects.get(pk=campaign.pk)
    assert counts.sent == 3000, counts.as_dict()
    receipts = provider.receipts()
    assert receipts["unique"] == 3000
    assert receipts["total"] == 3000  # no msgId accepted twice: the restart re-sent nothing
