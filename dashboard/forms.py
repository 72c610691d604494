"""Forms of the web UI. Saving goes through messaging.services where the domain has a service."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from dashboard.import_forms import AttributesFormField
from messaging import services
from messaging.campaigns.phones import normalise_phone
from messaging.campaigns.timezones import (
    GEOGRAPHIC_REGIONS,
    RUSSIAN_ZONES,
    known_timezones,
    resolve_timezone,
    zone_search_words,
)
from messaging.campaigns.validators import (
    TAG_TOO_LONG,
    check_item_count,
    operator_code_validator,
    phone_validator,
    prohibit_null_characters,
    split_list,
    validate_tag,
)
from messaging.models import Campaign, Client
from messaging.models.campaigns import EDITABLE_AFTER_START, INPUT_FIELDS
from messaging.reporting.humanize import zone_name

log = logging.getLogger(__name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Geographic names only: no localtime, Factory, Etc/GMT+3 (sign inverted), US/..., W-SU...
PICKER_REGIONS = GEOGRAPHIC_REGIONS


def _zone_label(name: str) -> str:
    """A zone by its city in the viewer's language and its offset: Москва (UTC+03:00)."""
    offset = datetime.now(ZoneInfo(name)).strftime("%z")
    return f"{zone_name(name)} (UTC{offset[:3]}:{offset[3:]})"


def timezone_choices() -> list:
    """Grouped for the picker: Russia first (west to east), then UTC and the world A-Z."""
    known = known_timezones()
    russian = [name for name in RUSSIAN_ZONES if name in known]
    others = sorted(
        name
        for name in known
        if name.split("/", 1)[0] in PICKER_REGIONS and "/" in name and name not in russian
    )
    return [
        (_("Russia"), [(name, _zone_label(name)) for name in russian]),
        (_("Other zones"), [("UTC", "UTC"), *((name, _zone_label(name)) for name in others)]),
    ]


class ZoneSelect(forms.Select):
    """Each option carries the words its search box matches: cities in Russian and English,
    MSK±N and UTC+N (messaging.campaigns.timezones), so typing "Москва" finds Europe/Moscow."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        words = zone_search_words(str(value)) if value else ""
        if words:
            option["attrs"]["data-search"] = words
        return option


class TimezoneChoiceField(forms.ChoiceField):
    """The picker's zones; a zone outside them that the validator knows (an alias kept by
    the API, e.g. Etc/GMT-3) stays valid so an old record can still be edited. A zone posted
    as people write it ("Москва", "МСК+4", "UTC+3") is read by the one resolver
    (messaging.campaigns.timezones); an empty one is `default` when there is one."""

    widget = ZoneSelect

    def __init__(self, *, default=None, **kwargs):
        kwargs.setdefault("choices", timezone_choices)
        self.default = default
        if default is not None:
            kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("data-searchable", "")
        self.widget.attrs.setdefault("data-search-label", _("Find a zone by city"))
        self.widget.attrs.setdefault("data-search-placeholder", _("e.g. Moscow, Vladivostok"))

    def to_python(self, value) -> str:
        text = super().to_python(value)
        default = self.default() if callable(self.default) else self.default
        if not text.strip() and not default:
            return ""
        return resolve_timezone(text, default=default)

    def valid_value(self, value) -> bool:
        return super().valid_value(value) or value in known_timezones()

    def keep(self, current: str) -> None:
        """List `current` first when the picker leaves it out (an alias such as Etc/GMT-3),
        so a form showing it never silently changes it on save."""
        # The picker's choices: a list of (group, options), as timezone_choices makes them.
        listed = {value for _group, options in self.choices for value, _label in options}  # type: ignore[misc, union-attr]
        if current and current not in listed and current in known_timezones():
            self.choices = [(_("Current zone"), [(current, current)]), *self.choices]  # type: ignore[misc]


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has the field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class PhoneField(forms.CharField):
    """A phone as people type it (+7 (916) 123-45-67, 8 916 ...), stored as 79161234567."""

    default_validators = [phone_validator]

    def to_python(self, value) -> str:
        return normalise_phone(super().to_python(value) or "")


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


class SpreadsheetUploadForm(forms.Form):
    """A CSV or Excel file within IMPORT_MAX_BYTES."""

    file = forms.FileField(
        label=gettext_lazy("File (CSV or Excel)"),
        help_text=gettext_lazy(
            "CSV as any Excel saves it, or an Excel workbook (XLSX). Rows are matched by "
            "phone: new phones are added, known ones updated."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.txt,.xlsx,text/csv,application/vnd.ms-excel," + XLSX_TYPE}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            limit = settings.IMPORT_MAX_BYTES // (1024 * 1024) or 1
            raise ValidationError(
                _("The file is larger than %(limit)s MB; split it.") % {"limit": limit}
            )
        return upload


class ClientImportForm(SpreadsheetUploadForm):
    skip_invalid_rows = forms.BooleanField(
        required=False,
        label=gettext_lazy("Import the valid rows even if some rows are invalid"),
        help_text=gettext_lazy("Otherwise any invalid row stops the import and nothing is saved."),
    )


class ListField(forms.CharField):
    """A comma-separated list of short values, shown and typed as "916, 925"."""

    def __init__(self, *, item_validator, **kwargs):
        self.item_validator = item_validator
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    # Values that never hold a space (operator codes): "916 926" is read as two.
    split_on_spaces = False

    # A list from one text box: CharField's cleaning of the text, then the split.
    def to_python(self, value) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):  # a disabled field gives back the instance's list
            value = ",".join(value)
        text = super().to_python(value) or ""
        if self.split_on_spaces:
            text = ",".join(text.split())
        return split_list(text)

    def item_hint(self, item: str) -> str | None:
        """A better word than the rule's for a typical slip, or None."""
        return None

    def validate(self, value) -> None:
        super().validate(value)
        check_item_count(value)  # one error for a huge list, not one per item
        errors = []
        for item in value:
            try:
                # CharField's own check looks at str(list), where a NUL reads "\\x00";
                # PostgreSQL refuses NUL in text (a 500 found by the UI fuzz pass).
                prohibit_null_characters(item)
            except ValidationError as exc:
                errors.extend(exc.messages)
                continue
            try:
                self.item_validator(item)
            except ValidationError as exc:
                # The rule's own words, after the item they are about.
                shown = item if len(item) <= 20 else f"{item[:20]}…"
                hint = self.item_hint(item)
                errors.extend(
                    f"{shown}: {message}" for message in ([hint] if hint else exc.messages)
                )
        if errors:
            raise ValidationError(errors)


# What <input type="datetime-local"> sends and expects.
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class OperatorCodesField(ListField):
    """Operator codes typed as "916, 926" or "916 926"; a name ("МТС") gets a hint."""

    split_on_spaces = True

    def item_hint(self, item: str) -> str | None:
        if any(ch.isalpha() for ch in item) and not any(ch.isdigit() for ch in item):
            return gettext(
                "operator codes are digits, e.g. 916 or 925 (the 3 digits after +7), "
                "not an operator's name"
            )
        return None


class TagsField(ListField):
    """Tags, comma-separated; a space-separated list of known tags gets a hint."""

    def validate(self, value) -> None:
        super().validate(value)
        from dashboard.filters import client_tags

        known = set(client_tags())
        hints = []
        for item in value:
            words = item.split()
            # "vip new" when clients have "vip" and "new" but no "vip new": two tags meant.
            if len(words) > 1 and item not in known and set(words) <= known:
                example = ", ".join(words)
                hints.append(
                    f"{item}: "
                    + gettext("separate tags with commas: %(example)s") % {"example": example}
                )
        if hints:
            raise ValidationError(hints)


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


class TimezoneForm(forms.Form):
    timezone = TimezoneChoiceField(
        label=gettext_lazy("Show times in"), help_text=gettext_lazy("Stored in this browser.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].keep(self.initial.get("timezone", ""))  # type: ignore[attr-defined]


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
