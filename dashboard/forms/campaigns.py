"""The campaign form: a draft created or a campaign edited through messaging.services."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from dashboard.forms.fields import OperatorCodesField, TagsField
from messaging import services
from messaging.campaigns.validators import operator_code_validator, validate_tag
from messaging.models import Campaign
from messaging.models.campaigns import EDITABLE_AFTER_START, INPUT_FIELDS
from messaging.reporting.humanize import zone_name

# What <input type="datetime-local"> sends and expects.
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has the field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class CampaignForm(forms.ModelForm):
    operator_codes = OperatorCodesField(
        required=False,
        item_validator=operator_code_validator,
        label=gettext_lazy("Operator codes"),
        help_text=gettext_lazy(
            "3-digit codes separated by commas or spaces, e.g. 916, 925. "
            "Empty matches every operator."
        ),
        widget=forms.TextInput(attrs={"list": "operator-code-options", "autocomplete": "off"}),
    )
    tags = TagsField(
        required=False,
        item_validator=validate_tag,
        label=gettext_lazy("Tags"),
        help_text=gettext_lazy("Comma-separated tags, e.g. vip, moscow. Empty matches every tag."),
        widget=forms.TextInput(attrs={"list": "tag-options", "autocomplete": "off"}),
    )

    class Meta:
        model = Campaign
        fields = INPUT_FIELDS
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4}),
            "start_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
            "end_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
            "send_window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "send_window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {
            "name": gettext_lazy("Name (optional)"),
            "text": gettext_lazy("Text"),
            "promotional": gettext_lazy("Promotional (advertising): only clients with consent"),
            "send_window_start": gettext_lazy("Send window opens"),
            "send_window_end": gettext_lazy("Send window closes"),
        }
        help_texts = {
            "send_window_start": gettext_lazy(
                "Client's local time. Leave both empty to send at any hour."
            ),
            "send_window_end": gettext_lazy(
                "May be earlier than the opening to wrap midnight (21:00-09:00)."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = zone_name(timezone.get_current_timezone_name())
        self.fields["start_at"].label = _("Start (%(zone)s)") % {"zone": zone}
        self.fields["end_at"].label = _("End (%(zone)s)") % {"zone": zone}
        if self.instance.pk is None and not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("start_at", now)
            self.initial.setdefault("end_at", now + timedelta(days=1))
        if self.instance.has_started:
            for name, field in self.fields.items():
                if name not in EDITABLE_AFTER_START:
                    field.disabled = True
                    field.help_text = _("Fixed once the campaign has started.")

    @staticmethod
    def normalise_text(text: str) -> str:
        """Browsers post a textarea's line breaks as CRLF; a phone needs only LF (and the
        SMS counter, in the browser and in messaging/campaigns/sms.py, counts one character)."""
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def clean_text(self) -> str:
        return self.normalise_text(self.cleaned_data["text"])

    def save(self, commit: bool = True, *, user=None) -> Campaign | None:
        """Create a draft or edit through the services; None (with errors on the form) if
        refused. A new campaign is always a draft: nothing is sent until it is reviewed and
        launched."""
        values = {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if not self.fields[name].disabled
        }
        try:
            if self.instance.pk is None:
                return services.create_campaign(values=values, user=user, draft=True)
            # The page shown next says `running` for a campaign whose window holds now.
            return services.update_campaign(campaign=self.instance, values=values)
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None
