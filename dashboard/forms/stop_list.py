"""Forms of the stop list page: phones typed or pasted, and a file of them."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy

from dashboard.forms.imports import SpreadsheetUploadForm

REASON_MAX_LENGTH = 200
# Phones pasted from anywhere: one a line, or separated by commas, semicolons or tabs
# (a phone's own spaces, brackets and dashes stay inside it).
_BETWEEN_PHONES = re.compile(r"[\n\r,;\t]+")


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. replied STOP")}),
    )


class StopListAddForm(forms.Form):
    prefix = "add"  # both forms are on one page: their fields' ids must differ
    phones = forms.CharField(
        label=gettext_lazy("Phones"),
        help_text=gettext_lazy(
            "One a line, or separated by commas: +7 (916) 123-45-67, 8 916 123 45 67 or "
            "79161234567."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reason = _reason_field()

    def clean_phones(self) -> list[str]:
        return [p.strip() for p in _BETWEEN_PHONES.split(self.cleaned_data["phones"]) if p.strip()]


class StopListImportForm(SpreadsheetUploadForm):
    """A file of phones: the column headed phone (Телефон, Номер...) or the first one.
    Rows that are not a phone are reported; the valid ones are always added."""

    prefix = "import"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext_lazy(
            "CSV as any Excel saves it, or an Excel workbook (XLSX)."
        )

    reason = _reason_field()
