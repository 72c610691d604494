from django.db import migrations

# Schedules are declared in messaging/tasks.py (RECURRING) and made so after every
# migrate (messaging/signals.py); this migration once wrote one itself.


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0005_fewer_message_indexes"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = []
