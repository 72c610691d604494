"""The client import's upload and its report (POST /api/clients/import/)."""

from __future__ import annotations

from rest_framework import serializers

from messaging.api.serializers.fields import MappingField
from messaging.api.strict import RejectUnknownFieldsMixin


class ClientImportSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text=(
            "CSV (UTF-8 with or without BOM, Windows-1251 or UTF-16; separated by commas, "
            "semicolons or tabs, all detected) or an Excel workbook (XLSX, first sheet). The "
            "first row names the columns, in English or Russian: phone (телефон, номер, "
            "мобильный), operator_code (код оператора), tag (тег, метка), timezone "
            "(часовой пояс), name (имя, ФИО), consent (согласие: да/нет, yes/no or the date it "
            "was given; an import only adds consent, never withdraws it), consent_source "
            "(источник согласия), field:<name> for a custom field. Only phone is required. "
            "Phones may be typed as in the forms (+7 (916) 123-45-67, 8 916 123 45 67) or "
            "stored by Excel as numbers. At most IMPORT_MAX_BYTES (20 MiB by "
            "default): a larger file is refused with 413."
        )
    )
    mapping = MappingField(
        binary=True,
        required=False,
        help_text=(
            "Which field each column holds, for headers Herald does not recognise: a JSON "
            'object of {"header as written": target}, the target being phone, '
            "operator_code, tag, timezone, name, consent, consent_source, field:<name> (a "
            "custom field) or ignore. Columns left out are matched by their header. Without "
            "it, a column Herald does not know refuses the file with a 400 naming it."
        ),
    )
    skip_invalid_rows = serializers.BooleanField(
        default=False,
        help_text=(
            "When false (default) any invalid row rejects the whole file and nothing is saved. "
            "When true the valid rows are saved and the invalid ones reported."
        ),
    )


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Line number in the file (the header is line 1).")
    phone = serializers.CharField(
        help_text="The row's phone (normalised when valid, else as written); empty if none."
    )
    # DRF's metaclass takes declared fields out of the class: no clash with .errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per column; `row` for a row with the wrong number of values.",
    )


class ImportResultSerializer(serializers.Serializer):
    imported = serializers.BooleanField(help_text="False when invalid rows rejected the file.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    repeated = serializers.IntegerField(
        help_text="Rows whose phone comes again later in the file: the last row was imported."
    )
    rejected_count = serializers.IntegerField(help_text="Every rejected row, counted.")
    read_as = serializers.CharField(
        help_text="How the file was read, e.g. CSV, Windows-1251, separated by «;»."
    )
    rejected = RowErrorSerializer(
        many=True,
        help_text=(
            "The first 1,000 rejected rows with their reasons; ask with ?rejected_csv=1 for a "
            "CSV of every one."
        ),
    )
