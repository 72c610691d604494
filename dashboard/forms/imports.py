"""The client import's forms: the file upload and the column-matching step."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from messaging.campaigns.imports import MalformedFile, Preview
from messaging.campaigns.imports.columns import (
    FIELD_PREFIX,
    FIELDS,
    IGNORE,
    header_key,
    plan_columns,
)
from messaging.campaigns.validators import RESERVED_ATTRIBUTE_KEYS, validate_attribute_key

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


# What a column may hold, in the order the matching step offers it.
TARGET_CHOICES = (
    (IGNORE, gettext_lazy("Do not import")),
    ("phone", gettext_lazy("Phone")),
    ("name", pgettext_lazy("person", "Name")),
    ("tag", gettext_lazy("Tag")),
    ("timezone", gettext_lazy("Time zone")),
    ("operator_code", gettext_lazy("Operator code")),
    ("consent", gettext_lazy("Consent to promotional messages (yes, or the date)")),
    ("consent_source", gettext_lazy("Where consent was given")),
    ("field", gettext_lazy("Custom field (name it)")),
)


def suggested_key(header: str) -> str:
    """A custom field name made from a header ("Дата рождения" -> "дата_рождения"), or ""."""
    key = header_key(header).replace(" ", "_")
    try:
        validate_attribute_key(key)
    except ValidationError:
        return ""
    return key


class ColumnMatchForm(forms.Form):
    """One choice per column of the file (what it holds), and a custom field's name."""

    skip_invalid_rows = forms.BooleanField(
        required=False,
        label=gettext_lazy("Import the valid rows even if some rows are invalid"),
        help_text=gettext_lazy("Otherwise any invalid row stops the import and nothing is saved."),
    )

    def __init__(self, *args, preview: Preview, **kwargs):
        super().__init__(*args, **kwargs)
        self.preview = preview
        self.columns = []
        for position, name in enumerate(preview.header):
            recognised = preview.recognised[position]
            target, key = recognised or IGNORE, ""
            if target.startswith(FIELD_PREFIX):
                target, key = "field", target.removeprefix(FIELD_PREFIX)
            elif recognised is None:
                key = suggested_key(name)
            label = (
                _("Column «%(name)s»") % {"name": name}
                if name
                else _("Column %(number)s (no name)") % {"number": position + 1}
            )
            key_label = (
                _("Custom field name for «%(name)s»") % {"name": name}
                if name
                else _("Custom field name for column %(number)s") % {"number": position + 1}
            )
            self.fields[f"column_{position}"] = forms.ChoiceField(
                choices=TARGET_CHOICES, required=False, initial=target, label=label
            )
            self.fields[f"field_{position}"] = forms.CharField(
                required=False,
                initial=key,
                max_length=60,
                label=key_label,
            )
            samples = [row[position] for row in preview.rows if position < len(row)]
            self.columns.append(
                {
                    "name": name,
                    "known": recognised is not None,
                    "samples": [sample for sample in samples if sample.strip()],
                    "target": self[f"column_{position}"],
                    "key": self[f"field_{position}"],
                }
            )
        # Names a custom field may not take, shown beside the name box.
        self.reserved = ", ".join(sorted(RESERVED_ATTRIBUTE_KEYS))

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        chosen: dict[int, str] = {}
        for position in range(len(self.preview.header)):
            target = cleaned.get(f"column_{position}", IGNORE)
            if target == "field":
                key = (cleaned.get(f"field_{position}") or "").strip()
                try:
                    validate_attribute_key(key)
                except ValidationError as exc:
                    self.add_error(f"field_{position}", exc)
                    continue
                target = FIELD_PREFIX + key
            elif target not in FIELDS:
                target = IGNORE
            chosen[position] = target
        if not self.errors:
            try:
                plan_columns(self.preview.header, chosen)
            except MalformedFile as exc:
                raise ValidationError(exc.messages) from None
        self.chosen = chosen
        return cleaned
