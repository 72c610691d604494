"""Endpoints for machines; open to probes (see config/views.py for who may read /metrics)."""

from django.urls import re_path

from config import views

# With or without the trailing slash: probes and scrapers do not follow redirects well.
urlpatterns = [
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    re_path(r"^readyz/?$", views.readyz, name="readyz"),
    re_path(r"^metrics/?$", views.metrics_view, name="metrics"),
]
