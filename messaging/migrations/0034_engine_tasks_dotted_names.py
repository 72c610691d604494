from django.db import migrations

# The engine's tasks moved to messaging/engine/tasks.py. Schedules stored by an older
# version (each campaign's start and end, the engine's wake-up) name the tick by its old
# dotted path; they run it by the new one from now on. The old name stays importable
# (messaging/tasks.py re-exports it) for tasks already queued. The recurring schedules
# are rewritten after every migrate anyway (messaging/tasks.py, RECURRING).

OLD, NEW = "messaging.tasks.tick", "messaging.engine.tasks.tick"


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=OLD).update(func=NEW)


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=NEW).update(func=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0033_sending_token_index"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
