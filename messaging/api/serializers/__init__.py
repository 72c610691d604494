"""The REST API's serializers, a module per resource; every name is importable from here."""

from __future__ import annotations

from messaging.api.serializers.campaigns import (
    CampaignSerializer,
    RetryFailedSerializer,
)
from messaging.api.serializers.clients import (
    PHONE_HELP,
    ClientSerializer,
)
from messaging.api.serializers.fields import (
    AttributesField,
    MappingField,
    PhoneField,
    TimeOfDayField,
    TimezoneField,
)
from messaging.api.serializers.imports import (
    ClientImportSerializer,
    ImportResultSerializer,
    RowErrorSerializer,
)
from messaging.api.serializers.messages import (
    DeliveryAttemptSerializer,
    MessageDetailSerializer,
    MessageSerializer,
)
from messaging.api.serializers.optouts import (
    BulkOptOutResultSerializer,
    OptOutSerializer,
    PhonesSerializer,
    StopListAddResultSerializer,
    StopListEntrySerializer,
    StopListImportResultSerializer,
    StopListImportSerializer,
    StopListRejectedRowSerializer,
)
from messaging.api.serializers.review import (
    CampaignReviewSerializer,
    LeftOutSerializer,
    ReviewWarningSerializer,
)
from messaging.api.serializers.stats import (
    CampaignStatsSerializer,
    CampaignSummarySerializer,
    OverallStatsSerializer,
    StatusCountsSerializer,
)

__all__ = [
    "PHONE_HELP",
    "AttributesField",
    "BulkOptOutResultSerializer",
    "CampaignReviewSerializer",
    "CampaignSerializer",
    "CampaignStatsSerializer",
    "CampaignSummarySerializer",
    "ClientImportSerializer",
    "ClientSerializer",
    "DeliveryAttemptSerializer",
    "ImportResultSerializer",
    "LeftOutSerializer",
    "MappingField",
    "MessageDetailSerializer",
    "MessageSerializer",
    "OptOutSerializer",
    "OverallStatsSerializer",
    "PhoneField",
    "PhonesSerializer",
    "RetryFailedSerializer",
    "ReviewWarningSerializer",
    "RowErrorSerializer",
    "StatusCountsSerializer",
    "StopListAddResultSerializer",
    "StopListEntrySerializer",
    "StopListImportResultSerializer",
    "StopListImportSerializer",
    "StopListRejectedRowSerializer",
    "TimeOfDayField",
    "TimezoneField",
]
