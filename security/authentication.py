"""`Authorization: Token <key>` against hashed, optionally expiring keys, with throttling.

Anonymous API requests and requests with a bad key count against the address's rate
(AddressThrottle) here, because DRF runs throttles only after permissions, which refuse
anonymous requests first: without this, guessing keys would never meet a 429.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    TokenAuthentication,
    get_authorization_header,
)

from security.throttles import AddressThrottle
from security.tokens import TokenRejected, user_for_key


def _throttle_address(request) -> None:
    throttle = AddressThrottle()
    # It reads only the address: neither DRF's Request nor a view is needed.
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        raise exceptions.Throttled(wait=throttle.wait())


class AnonymousAddressThrottle(BaseAuthentication):
    """First in the list: a request with neither a signed-in session nor a `Token` header
    is anonymous, whatever else it sends (no header, `Bearer ...`, `Basic ...`), and counts
    against its address. It authenticates nobody."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if header and header[0].lower() == HashedTokenAuthentication.keyword.lower().encode():
            return None  # HashedTokenAuthentication counts the wrong keys
        session_user = getattr(request._request, "user", None)
        if session_user is None or not session_user.is_authenticated:
            _throttle_address(request)
        return None

    def authenticate_header(self, request) -> str:
        # DRF answers 401 (not 403) with the first class's challenge: the Token scheme.
        return HashedTokenAuthentication.keyword


class AnonymousAddressThrottleScheme(OpenApiAuthenticationExtension):
    """Not a way to sign in: nothing for the OpenAPI document's security section."""

    target_class = AnonymousAddressThrottle
    name: list[str] = []

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []


class HashedTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            _throttle_address(request)  # a wrong key counts against the address
            raise

    def authenticate_credentials(self, key):
        try:
            user = user_for_key(key)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return (user, None)
