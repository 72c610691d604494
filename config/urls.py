from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dashboard.views import account as account_views
from dashboard.views import language as language_views

urlpatterns = [
    path("", include("config.ops_urls")),  # /healthz, /readyz, /metrics
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    # Signs out of Auth0 too when the session came from SSO.
    path("accounts/logout/", account_views.logout, name="logout"),
    path("auth/", include("social_django.urls", namespace="social")),
    # The language switcher, on every page including the sign-in page.
    path("i18n/language/", language_views.set_language, name="set-language"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # The split view serves its start-up script as a file (?script): no inline script (CSP).
        login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path("api/", include("messaging.api.urls")),
    path("", include("dashboard.urls")),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
