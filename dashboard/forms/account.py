"""The account page's form: the time zone times are shown in."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from dashboard.forms.fields import TimezoneChoiceField


class TimezoneForm(forms.Form):
    timezone = TimezoneChoiceField(
        label=gettext_lazy("Show times in"), help_text=gettext_lazy("Stored in this browser.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].keep(self.initial.get("timezone", ""))  # type: ignore[attr-defined]
