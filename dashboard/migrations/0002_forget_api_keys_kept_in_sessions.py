"""Take out of every session the API key an earlier version kept there.

The account page used to keep a new key in the session between the POST that made it
and the page that showed it; a session whose page never loaded kept the key in plain
form until it expired. Keys are now shown in the POST's own answer only.
"""

from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations

OLD_KEY = "herald_new_api_key"


def forget_keys(apps, schema_editor):
    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.filter(session_data__isnull=False).iterator(chunk_size=500):
        data = store.decode(session.session_data)
        if OLD_KEY in data:
            del data[OLD_KEY]
            session.session_data = store.encode(data)
            session.save(update_fields=["session_data"])


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_user_preference"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forget_keys, migrations.RunPython.noop)]
