"""Send a test: the campaign text to one phone through the provider, right now.

The text goes as the client with that phone would get it (merge tags filled in); a phone
that opted out or is on the stop list is refused.

Record, then send, then record (like the engine): the row exists before the
request, so its id gives the msgId, and the outcome is stored whatever happens.
A test never touches messages or counters, so it never shows in a campaign's
figures. The msgId space is TEST_SEND_ID_BASE + the row's id (see
messaging/models/testsends.py): the provider de-duplicates by msgId.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext as _

from messaging.campaigns import merge
from messaging.campaigns.phones import normalise_phone, phone_error
from messaging.campaigns.sms import validate_sms_length
from messaging.models import Campaign, Client, StopListEntry, TestSend
from messaging.provider import ProviderClient

log = logging.getLogger(__name__)

# A person waits for the answer: never longer than this, whatever the engine's timeouts.
TEST_SEND_TIMEOUT_SECONDS = 10.0


def _personal(text: str, phone: str) -> str:
    """The text as the client with this phone would get it (the tags' fallbacks for a phone
    that is no client's); refused for a phone nobody may message."""
    client = Client.objects.filter(phone=phone).first()
    if client is not None and client.opted_out:
        raise ValidationError(
            {"phone": [_("This client opted out of messages: no test is sent to them.")]}
        )
    if StopListEntry.objects.filter(phone=phone).exists():
        raise ValidationError(
            {"phone": [_("This phone is on the stop list: no test is sent to it.")]}
        )
    rendered = merge.render_for(text, client) if client is not None else merge.with_fallbacks(text)
    try:
        validate_sms_length(rendered)
    except ValidationError as exc:
        raise ValidationError({"text": exc.messages}) from None
    return rendered


def send_test(*, phone: str, text: str, user=None, campaign: Campaign | None = None) -> TestSend:
    """Validate, send one test message and return its record; ValidationError changes nothing."""
    phone = normalise_phone(phone or "")  # "+7 (916) 123-45-67", "8 916 ..." as in the forms
    errors: dict[str, list[str]] = {}
    problem = phone_error(phone)
    if problem:
        errors["phone"] = [problem]
    if not text or not text.strip():
        errors["text"] = [_("Write the text first.")]
    else:
        try:
            ProhibitNullCharactersValidator()(text)  # as every form field does
            merge.check_fields(text)
            validate_sms_length(merge.with_fallbacks(text))
        except ValidationError as exc:
            errors["text"] = exc.messages
    if errors:
        raise ValidationError(errors)
    text = _personal(text, phone)
    record = TestSend.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        campaign=campaign,
        phone=phone,
        text=text,
    )
    timeout = min(settings.PROVIDER_READ_TIMEOUT, TEST_SEND_TIMEOUT_SECONDS)
    client = ProviderClient(
        connect_timeout=min(settings.PROVIDER_CONNECT_TIMEOUT, timeout), read_timeout=timeout
    )
    try:
        result = client.send(message_id=record.message_id, phone=phone, text=text)
    finally:
        client.close()
    record.sent = result.sent
    record.outcome = result.outcome
    record.http_status = result.http_status
    record.reason = result.reason[:500]
    record.response_excerpt = result.excerpt[:200]
    record.duration_ms = result.duration_ms
    record.save(
        update_fields=[
            "sent",
            "outcome",
            "http_status",
            "reason",
            "response_excerpt",
            "duration_ms",
        ]
    )
    log.info(
        "test send test_send_id=%s msg_id=%s user=%s outcome=%s http_status=%s reason=%r",
        record.pk,
        record.message_id,
        record.user.get_username() if record.user else None,
        result.outcome,
        result.http_status,
        result.reason,
        extra={"campaign_id": campaign.pk if campaign else None},
    )
    return record
