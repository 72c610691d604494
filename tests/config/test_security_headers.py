"""Headers on every response, TLS behaviour, cookies, and the shipped production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from core.deployment import is_local_host

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"


def _assert_strict_csp(policy: str) -> None:
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/clients/",
        "/campaigns/",
        "/reports/daily/",
        "/account/",
        "/docs/",
        "/api/clients/",
        "/api/schema/",
        "/static/css/herald.css",
        "/no-such-page/",
        "/metrics",
    ],
)
def test_every_response_has_the_strict_csp_and_the_standard_headers(as_manager, path):
    response = as_manager.get(path)
    _assert_strict_csp(response[CSP])
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    # Static files too (WhiteNoise answers them before most middleware runs).
    assert response["X-Frame-Options"] == "DENY"
    policy = dict(part.split("=", 1) for part in response["Permissions-Policy"].split(", "))
    assert policy["camera"] == policy["microphone"] == policy["geolocation"] == "()"
    assert policy["payment"] == policy["usb"] == "()"


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/clients/",
        "/clients/export.csv",
        "/campaigns/",
        "/account/",
        "/audit/",
        "/api/clients/",
        "/no-such-page/",
    ],
)
def test_nothing_a_signed_in_user_is_answered_may_be_stored(as_manager, path):
    response = as_manager.get(path)
    assert {"private", "no-store"} <= _cache_control(response), path


def test_api_answers_to_a_token_may_not_be_stored(manager_api):
    response = manager_api.get("/api/clients/")
    assert response.status_code == 200
    assert {"private", "no-store"} <= _cache_control(response)


def test_static_files_stay_cacheable_for_signed_in_users(as_manager):
    response = as_manager.get("/static/css/herald.css")
    assert response.status_code == 200
    assert "no-store" not in _cache_control(response)


def test_the_login_page_has_the_csp_too(client):
    response = client.get(reverse("login"))
    _assert_strict_csp(response[CSP])


def test_swagger_ui_loads_its_start_up_script_from_a_file(as_manager):
    """drf-spectacular's default page inlines its script and styles; ours does not."""
    html = as_manager.get("/docs/").content.decode()
    assert '<script src="/docs/?script="></script>' in html
    assert "<style" not in html
    assert "/static/css/swagger.css" in html
    script = as_manager.get("/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@override_settings(
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31_536_000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
)
def test_behind_tls_plain_http_is_redirected_and_https_gets_hsts(as_manager):
    plain = as_manager.get("/clients/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/clients/"
    secure = as_manager.get("/clients/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # Kubernetes probes and Prometheus reach the pod over plain HTTP, without the header.
    assert as_manager.get("/healthz").status_code == 200


def _settings_with(**env: str) -> dict[str, str]:
    code = (
        "import config.settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    environ = {**os.environ, "HERALD_ENV_FILE": "", "SECRET_KEY": "k" * 50, **env}
    result = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    keys = ["redirect", "hsts", "session_secure", "csrf_secure", "proxy_header"]
    return dict(zip(keys, result.stdout.split(maxsplit=4), strict=True))


def test_tls_settings_follow_secure_proxy_ssl_and_cookies_are_secure_without_debug():
    behind_tls = _settings_with(DEBUG="0", SECURE_PROXY_SSL="1")
    assert behind_tls["redirect"] == "True"
    assert behind_tls["hsts"] == "31536000"
    assert behind_tls["proxy_header"].strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
    plain = _settings_with(DEBUG="0", SECURE_PROXY_SSL="0", CSRF_TRUSTED_ORIGINS="")
    assert (plain["redirect"], plain["hsts"]) == ("False", "0")
    # Secure cookies whenever DEBUG is off, whatever else is set.
    assert (plain["session_secure"], plain["csrf_secure"]) == ("True", "True")
    debug = _settings_with(DEBUG="1")
    assert (debug["session_secure"], debug["csrf_secure"]) == ("False", "False")


@pytest.mark.parametrize(
    "key", ["change-me-to-50-random-characters", "compose-only-secret-change-me", "CHANGE-ME-x"]
)
def test_a_placeholder_secret_key_is_refused_at_start(key):
    environ = {**os.environ, "HERALD_ENV_FILE": "", "SECRET_KEY": key, "DEBUG": "0"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "SECRET_KEY is a published placeholder; set a random one" in last_line


@pytest.mark.parametrize("token", ["change-me-metrics-token", "my-CHANGE-ME-token"])
def test_a_placeholder_metrics_token_is_refused_at_start(token):
    """k8s/secret.yaml's METRICS_TOKEN is public: kept, /metrics would be open to anyone."""
    environ = {
        **os.environ,
        "HERALD_ENV_FILE": "",
        "SECRET_KEY": "k" * 50,
        "DEBUG": "0",
        "METRICS_TOKEN": token,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.startswith("Herald cannot start: METRICS_TOKEN is a published placeholder")


def test_manage_py_refuses_a_placeholder_secret_key_in_one_line():
    environ = {
        **os.environ,
        "HERALD_ENV_FILE": "",
        "SECRET_KEY": "change-me-to-50-random-characters",
        "DEBUG": "0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Herald cannot start: SECRET_KEY is a published placeholder")


def test_check_deploy_is_clean_with_the_shipped_k8s_and_compose_settings():
    """What .ci/run runs (scripts/check_deploy.py); also proves the placeholders are refused."""
    scripts = str(Path(settings.BASE_DIR) / "scripts")
    sys.path.insert(0, scripts)
    try:
        import check_deploy
    finally:
        sys.path.remove(scripts)
    assert check_deploy.check("k8s", check_deploy.k8s_env()) == []
    assert check_deploy.check("docker-compose", check_deploy.compose_env()) == []


def test_check_deploy_warns_when_a_public_host_is_served_without_tls(settings):
    from security.checks import public_hosts_need_tls

    settings.DEBUG = False
    settings.SECURE_PROXY_SSL = False
    settings.ALLOWED_HOSTS = ["localhost", "web", "herald.example.com"]
    warnings = public_hosts_need_tls(None)
    assert [w.id for w in warnings] == ["herald.W001"]
    assert "herald.example.com" in warnings[0].msg and "web" not in warnings[0].msg
    settings.SECURE_PROXY_SSL = True
    assert public_hosts_need_tls(None) == []


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("[::1]", True),
        ("web", True),
        ("herald.example.com", False),
        ("10.0.0.5", False),
        ("*", False),
    ],
)
def test_local_hosts(host, local):
    assert is_local_host(host) is local
