"""What Django's error reports (the DEBUG page, error emails) may show: no password.

Django hides settings whose names look secret (KEY, TOKEN, PASS...), but DATABASE_URL
carries the database password inside a URL, in the settings and, under runserver, in the
request's environment; and a failed connection has it in the traceback's variables.
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@host: the password is what is hidden.
_URL_PASSWORD = re.compile(r"(?P<start>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@", re.I)


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|DSN", flags=re.I
    )

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if type(value) is str:  # not a lazy object that passes for one (axes has some)
            # Any other URL with a password in it (PROVIDER_URL, a cache, a broker).
            value = _URL_PASSWORD.sub(rf"\g<start>{self.cleansed_substitute}@", value)
        return value

    def get_traceback_frame_variables(self, request, tb_frame):
        # A connection's parameters (a dict with "password") and URLs in local variables.
        return [
            (name, self.cleanse_setting(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
