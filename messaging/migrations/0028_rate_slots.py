# The rate cap hands out timestamped slots instead of bucket tokens (issue 21). The
# bucket's columns stay (refilled_at may now be empty) so that workers of the previous
# release keep running while a deploy migrates.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0027_campaign_draft_launch"),
    ]

    operations = [
        migrations.AddField(
            model_name="ratebucket",
            name="next_slot",
            field=models.FloatField(default=0),
        ),
        migrations.AlterField(
            model_name="ratebucket",
            name="refilled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
