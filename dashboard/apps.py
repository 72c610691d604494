from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        # Connects the sign-in signal that applies a user's stored language.
        from dashboard import language  # noqa: F401
        from dashboard.tables_speedup import install

        install()
