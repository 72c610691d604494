# Joins UI-FEATURES' migrations (0022-0024) with main's (0014, 0018-0019), so this branch
# migrates on its own after `git merge main`.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0019_rejected_rows"),
        ("messaging", "0024_client_tag_key"),
    ]

    operations = []
