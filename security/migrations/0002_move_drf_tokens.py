"""Move DRF's plain-text tokens (rest_framework.authtoken, no longer installed) to hashed ones.

Every existing key keeps working: its SHA-256 is stored, the plain text is deleted.
Reads the old table with SQL because its app is gone; a database that never had it
(a fresh install) has nothing to move.
"""

import hashlib

from django.db import migrations
from django.utils import timezone


def move_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("security", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        ApiToken.objects.update_or_create(
            user_id=user_id,
            defaults={
                "key_hash": hashlib.sha256(key.encode()).hexdigest(),
                "prefix": key[:6],
                "created": created or timezone.now(),
                "expires_at": None,  # they never expired before; rotate them to get one
            },
        )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]

    operations = [migrations.RunPython(move_tokens, migrations.RunPython.noop)]
