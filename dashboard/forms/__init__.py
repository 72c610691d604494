"""Forms of the web UI, a module per area. Saving goes through messaging.services where
the domain has a service.

The forms the views use are importable from here; the fields they are made of are in
`fields.py`.
"""

from __future__ import annotations

from dashboard.forms.account import TimezoneForm
from dashboard.forms.campaigns import CampaignForm
from dashboard.forms.clients import ClientForm, OptOutForm
from dashboard.forms.fields import ListField, timezone_choices
from dashboard.forms.imports import ClientImportForm, ColumnMatchForm, SpreadsheetUploadForm
from dashboard.forms.reports import ReportSettingsForm
from dashboard.forms.stop_list import StopListAddForm, StopListImportForm

__all__ = [
    "CampaignForm",
    "ClientForm",
    "ClientImportForm",
    "ColumnMatchForm",
    "ListField",
    "OptOutForm",
    "ReportSettingsForm",
    "SpreadsheetUploadForm",
    "StopListAddForm",
    "StopListImportForm",
    "TimezoneForm",
    "timezone_choices",
]
