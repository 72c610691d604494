"""The client form and the opt-out form of the client pages."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from dashboard.forms.fields import AttributesFormField, PhoneField, TimezoneChoiceField
from messaging.campaigns.validators import TAG_TOO_LONG
from messaging.models import Client

log = logging.getLogger(__name__)


class ClientForm(forms.ModelForm):
    phone = PhoneField(
        label=gettext_lazy("Phone"),
        max_length=40,
        help_text=gettext_lazy(
            "Typed any common way: +7 (916) 123-45-67, 8 916 123 45 67 or 79161234567."
        ),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    timezone = TimezoneChoiceField(
        label=gettext_lazy("Time zone"),
        initial=lambda: settings.CLIENT_DEFAULT_TIMEZONE,
        default=lambda: settings.CLIENT_DEFAULT_TIMEZONE,
        help_text=gettext_lazy("The client's local time zone; send windows follow it."),
    )
    # Not named "attributes": a form control of that name would hide the <form>'s own
    # `attributes` property from scripts (DOM clobbering).
    custom_fields = AttributesFormField(
        label=gettext_lazy("Custom fields"),
        help_text=gettext_lazy(
            "One per line, <code>name: text</code> (for example <code>city: Kazan</code>). A "
            "campaign's text uses it as <code>{city}</code>."
        ),
    )

    consent = forms.BooleanField(
        required=False,
        label=gettext_lazy("Consented to promotional messages"),
        help_text=gettext_lazy(
            "Required by law for advertising: promotional campaigns reach only these clients."
        ),
    )

    class Meta:
        model = Client
        fields = ["phone", "name", "operator_code", "tag", "timezone", "consent_source"]
        widgets = {"operator_code": forms.TextInput(attrs={"inputmode": "numeric"})}
        labels = {
            "operator_code": gettext_lazy("Operator code"),
            "tag": gettext_lazy("Tag"),
            "name": pgettext_lazy("person", "Name"),
            "consent_source": gettext_lazy("Where consent was given"),
        }
        error_messages = {"tag": {"max_length": TAG_TOO_LONG}}
        help_texts = {
            "operator_code": gettext_lazy("3 digits; leave empty to take digits 2-4 of the phone."),
            "tag": gettext_lazy("Free text label."),
            "name": gettext_lazy(
                "How to address them; a campaign's text uses it as <code>{name}</code>."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A zone the picker leaves out (an alias such as Etc/GMT-3 set through the API)
        # stays selectable for this client, so saving the form never changes it silently.
        if self.instance.pk:
            self.fields["timezone"].keep(self.instance.timezone)  # type: ignore[attr-defined]
        self.fields["custom_fields"].initial = self.instance.attributes
        self.fields["consent"].initial = self.instance.consent_at is not None
        # Between the name and the operator code, as the client page lists them.
        self.order_fields(["phone", "name", "custom_fields"])

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        if "custom_fields" in cleaned:
            self.instance.attributes = cleaned["custom_fields"]
        if not cleaned.get("consent"):
            self.instance.consent_at = None
        elif self.instance.consent_at is None:
            self.instance.consent_at = timezone.now()  # kept as first given on later edits
        return cleaned

    def save(self, commit: bool = True) -> Client:
        created = self.instance.pk is None
        client = super().save(commit=commit)
        log.info("client %s", "created" if created else "updated", extra={"client_id": client.pk})
        return client


class OptOutForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "placeholder": gettext_lazy("e.g. replied STOP"),
                "class": "form-control form-control-sm",
            }
        ),
    )
