"""The report page's form: who receives the daily report, and at what time."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy, ngettext


class ReportSettingsForm(forms.Form):
    """Who receives the daily report and when (Managers, on the report page)."""

    MAX_RECIPIENTS = 50

    recipients = forms.CharField(
        label=gettext_lazy("Recipients"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=gettext_lazy(
            "Email addresses, one per line or separated by commas. Empty: nobody receives it."
        ),
    )
    send_time = forms.TimeField(
        label=gettext_lazy("Send time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def clean_recipients(self) -> list[str]:
        from django.core.validators import validate_email

        addresses = self.cleaned_data["recipients"].replace(",", " ").replace(";", " ").split()
        wrong = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                wrong.append(address)
        if wrong:
            raise ValidationError(
                ngettext(
                    "Not an email address: %(addresses)s.",
                    "Not email addresses: %(addresses)s.",
                    len(wrong),
                )
                % {"addresses": ", ".join(wrong)}
            )
        if len(addresses) > self.MAX_RECIPIENTS:
            raise ValidationError(gettext("At most %(n)s addresses.") % {"n": self.MAX_RECIPIENTS})
        return list(dict.fromkeys(addresses))  # each once, in the order typed
