from django.db import migrations

# Schedules are declared in messaging/tasks.py (RECURRING) and made so after every
# migrate (messaging/signals.py); this migration once wrote one itself.


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_daily_report")]

    operations = []
