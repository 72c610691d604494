"""Phones are 11 ASCII digits: the validators say so, and rows stored before are repaired.

A phone stored with other digits (Arabic-Indic "٧٩١٦...", full-width, superscript "²")
crashed the sender or reached the provider as another client's number. Each such row is
converted to ASCII digits (and normalised, "+7 (916)..." -> "7916...") when the result is
a valid phone no other client has; its messages get the same phone. Every other bad row is
left as it was and listed: fix or delete those clients by hand (the API and the forms
refuse to save them unchanged).
"""

import sys

import django.core.validators
from django.db import migrations, models

import messaging.models.clients
import messaging.campaigns.validators
from messaging.campaigns.phones import ascii_digits, is_valid_phone, normalise_phone

VALID = r"^7[0-9]{10}\Z"


def repair_phones(apps, schema_editor):
    Client = apps.get_model("messaging", "Client")
    Message = apps.get_model("messaging", "Message")
    bad = list(Client.objects.exclude(phone__regex=VALID).order_by("id").values_list("id", "phone"))
    if not bad:
        return
    out = sys.stdout
    out.write(f"\n  phones: {len(bad)} client(s) stored with a phone that is not 11 ASCII digits\n")
    planned: dict[str, int] = {}
    left: list[tuple[int, str, str]] = []
    for client_id, phone in bad:
        converted = ascii_digits(phone)
        fixed = normalise_phone(converted) if converted is not None else None
        if fixed is None or not is_valid_phone(fixed):
            left.append((client_id, phone, "no valid phone once converted"))
        elif fixed in planned or Client.objects.filter(phone=fixed).exists():
            left.append((client_id, phone, f"{fixed} belongs to another client"))
        else:
            planned[fixed] = client_id
    for fixed, client_id in planned.items():
        old = Client.objects.get(pk=client_id).phone
        Client.objects.filter(pk=client_id).update(phone=fixed)
        messages = Message.objects.filter(client_id=client_id, phone=old).update(phone=fixed)
        out.write(f"  fixed client_id={client_id} {old!r} -> {fixed} ({messages} message(s))\n")
    for client_id, phone, why in left:
        out.write(f"  NOT fixed client_id={client_id} {phone!r}: {why}; fix or delete it\n")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0014_retention_schedule")]

    operations = [
        migrations.AlterField(
            model_name="client",
            name="operator_code",
            field=models.CharField(
                blank=True,
                help_text="3 digits; defaults to digits 2-4 of the phone.",
                max_length=3,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[0-9]{3}\\Z",
                        "Operator code must be exactly 3 digits (0-9).",
                        code="invalid_operator_code",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="client",
            name="phone",
            field=models.CharField(
                help_text="11 digits starting with 7, e.g. 79161234567.",
                max_length=11,
                unique=True,
                validators=[messaging.campaigns.validators.PhoneValidator()],
            ),
        ),
        migrations.AlterField(
            model_name="client",
            name="timezone",
            field=models.CharField(
                default=messaging.models.clients.default_client_timezone,
                help_text=(
                    "IANA time zone name, e.g. Europe/Moscow; CLIENT_DEFAULT_TIMEZONE when "
                    "left out."
                ),
                max_length=64,
                validators=[messaging.campaigns.validators.validate_timezone],
            ),
        ),
        migrations.RunPython(repair_phones, migrations.RunPython.noop),
    ]
