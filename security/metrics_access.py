"""Who may read /metrics.

- anyone with METRICS_PUBLIC=1 (a network where only the scraper reaches the port);
- `Authorization: Bearer <METRICS_TOKEN>` (what Prometheus sends);
- an API token (`Token <key>`, or `Bearer <key>` for scrapers that only speak Bearer)
  of a user with a role (Managers or Viewers);
- a signed-in user with a role. Signed in without a role is not enough.

Wrong credentials count against the caller's address like wrong API keys do
(API_THROTTLE_ANON): past the rate, 429 with Retry-After instead of 401.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from security.roles import can_read
from security.throttles import AddressThrottle
from security.tokens import TokenRejected, user_for_key


def _metrics_token_ok(scheme: str, credential: str) -> bool:
    return bool(
        settings.METRICS_TOKEN
        and scheme == "bearer"
        and hmac.compare_digest(credential.encode(), settings.METRICS_TOKEN.encode())
    )


def _api_token_user(scheme: str, credential: str):
    if scheme not in ("token", "bearer") or not credential:
        return None
    try:
        return user_for_key(credential)
    except TokenRejected:
        return None


def may_read_metrics(request: HttpRequest) -> bool:
    if settings.METRICS_PUBLIC:
        return True
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    scheme, credential = scheme.lower(), credential.strip()
    if _metrics_token_ok(scheme, credential):
        return True
    token_user = _api_token_user(scheme, credential)
    if token_user is not None:
        return can_read(token_user)
    return can_read(request.user)


def refusal(request: HttpRequest) -> HttpResponse | None:
    """None when the request may read /metrics; otherwise the 401 (or 429) to answer."""
    if may_read_metrics(request):
        return None
    if request.headers.get("Authorization"):
        throttle = AddressThrottle()
        # It reads only the address: neither DRF's Request nor a view is needed.
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            response = HttpResponse("Too many wrong credentials; try again later.\n", status=429)
            wait = throttle.wait()
            if wait:
                response["Retry-After"] = str(int(wait) + 1)
            return response
    response = HttpResponse(
        "Sign in with a role, or send Authorization: Bearer <METRICS_TOKEN> or Token <API key>.\n",
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response
