from django.db import migrations

HOUSEKEEPING = "herald-housekeeping"


def stop_saving_results(apps, schema_editor):
    """A result row every minute would push useful task results out of the saved ones."""
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=HOUSEKEEPING).update(kwargs="{'q_options': {'save': False}}")


def save_results_again(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=HOUSEKEEPING).update(kwargs=None)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_daily_report")]

    operations = [migrations.RunPython(stop_saving_results, save_results_again)]
