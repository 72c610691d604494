from datetime import datetime, time, timedelta, timezone as dt_timezone

from django.db import migrations
from django.utils import timezone

# As in messaging/housekeeping.py; copied so the migration does not follow later changes.
SCHEDULE_NAME = "herald: retention"
SCHEDULE_FUNC = "messaging.housekeeping.run_retention"
# A quiet hour for most deployments; the schedule can be moved in the admin.
RUN_AT = time(3, 30)


def next_run():
    now = timezone.now()
    run = datetime.combine(now.date(), RUN_AT, tzinfo=dt_timezone.utc)
    return run if run > now else run + timedelta(days=1)


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": SCHEDULE_FUNC,
            "schedule_type": "D",  # Schedule.DAILY
            "repeats": -1,
            "next_run": next_run(),
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0005_fewer_message_indexes"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
