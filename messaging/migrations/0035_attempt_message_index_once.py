"""The delivery attempt's own index on message_id goes: `attempt_message_started`
(message_id, started_at) already serves every lookup by message, and each request's
attempt row wrote both.

Only the index is dropped. Django's AlterField would also drop and re-create the foreign
key on PostgreSQL, which validates every attempt row under a lock that stops the
senders, and on SQLite would copy the whole table.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "messaging_deliveryattempt_message_id_3317fec4"


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0034_engine_tasks_dotted_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="deliveryattempt",
                    name="message",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="delivery_attempts",
                        to="messaging.message",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "messaging_deliveryattempt" ("message_id")',
                ),
            ],
        ),
    ]
