"""`Authorization: Token <key>` against hashed, optionally expiring keys, with throttling.

Anonymous API requests and requests with a bad key count against the address's rate
(AddressThrottle) here, because DRF runs throttles only after permissions, which refuse
anonymous requests first: without this, guessing keys would never meet a 429.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from security.throttles import AddressThrottle
from security.tokens import TokenRejected, user_for_key


def _throttle_address(request) -> None:
    throttle = AddressThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(wait=throttle.wait())


class HashedTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            # No token: the session may still sign the request in; if not, the request is
            # anonymous and counts against its address.
            session_user = getattr(request._request, "user", None)
            if session_user is None or not session_user.is_authenticated:
                _throttle_address(request)
            return None
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
