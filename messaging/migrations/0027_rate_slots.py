# The rate cap hands out timestamped slots instead of bucket tokens (issue 21).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0026_client_operator_code_validator"),
    ]

    operations = [
        migrations.RemoveField(model_name="ratebucket", name="tokens"),
        migrations.RemoveField(model_name="ratebucket", name="refilled_at"),
        migrations.AddField(
            model_name="ratebucket",
            name="next_slot",
            field=models.FloatField(default=0),
        ),
    ]
