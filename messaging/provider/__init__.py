"""Everything about the sending provider: what its answers mean (`answers`) and the
one module that speaks HTTP to it (`clients`)."""

from messaging.provider.answers import (
    ProviderResult,
    Verdict,
    classify,
    parse_retry_after,
    request_body,
    scrub,
    token_fingerprint,
)
from messaging.provider.clients import AsyncProviderClient, ProviderClient

__all__ = [
    "AsyncProviderClient",
    "ProviderClient",
    "ProviderResult",
    "Verdict",
    "classify",
    "parse_retry_after",
    "request_body",
    "scrub",
    "token_fingerprint",
]
