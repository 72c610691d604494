"""Turn model-level validation and integrity errors into 400s with field messages, and a
body too large to read into a 413."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from messaging.api.parsers import BodyTooLarge

log = logging.getLogger(__name__)


def as_drf_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if key == "__all__" else key): [m for e in errs for m in e.messages]
            for key, errs in exc.error_dict.items()
        }
    else:
        detail = {"non_field_errors": exc.messages}
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django refused to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE: say so in JSON.
        exc = BodyTooLarge.over_the_limit()
    elif isinstance(exc, DjangoValidationError):
        exc = as_drf_error(exc)
    elif isinstance(exc, IntegrityError):
        # A race with another request (two creates of one phone): the database said no.
        log.warning("integrity error on API request: %s", exc)
        exc = exceptions.ValidationError(
            {
                "non_field_errors": [
                    _("This conflicts with existing data (for example a duplicate).")
                ]
            }
        )
    return drf_exception_handler(exc, context)
