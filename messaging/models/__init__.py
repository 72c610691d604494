from messaging.models.campaigns import Campaign, CampaignStatus
from messaging.models.clients import Client, ClientField, StopListEntry, Via
from messaging.models.counters import CampaignCounts, SendBucket
from messaging.models.engine import CircuitState, ProviderState, PumpSlot, RateBucket
from messaging.models.heartbeats import WorkerHeartbeat
from messaging.models.imports import PendingImport, RejectedRows
from messaging.models.messages import (
    FINAL_STATUSES,
    UNSENT_STATUSES,
    AttemptOutcome,
    DeliveryAttempt,
    Message,
    MessageStatus,
)
from messaging.models.reports import DailyReportRun, ReportSettings
from messaging.models.testsends import TEST_SEND_ID_BASE, TestSend

__all__ = [
    "FINAL_STATUSES",
    "TEST_SEND_ID_BASE",
    "UNSENT_STATUSES",
    "AttemptOutcome",
    "Campaign",
    "CampaignCounts",
    "CampaignStatus",
    "CircuitState",
    "Client",
    "ClientField",
    "DailyReportRun",
    "DeliveryAttempt",
    "Message",
    "MessageStatus",
    "PendingImport",
    "ProviderState",
    "PumpSlot",
    "RateBucket",
    "RejectedRows",
    "ReportSettings",
    "SendBucket",
    "StopListEntry",
    "TestSend",
    "Via",
    "WorkerHeartbeat",
]
