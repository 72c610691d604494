"""Throttled sign-in (django-axes): what a locked-out person sees.

Why django-axes: it is the maintained, widely used library for exactly this (per user
name and per address lockouts through Django's own authenticate(), so the login form,
the admin login and any other form are covered alike), it keeps its counts in the
database (shared by every web process and pod), and it sends a signal on lockout for
our audit trail.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    """429 with Retry-After and a page that says when to try again."""
    cool_off = get_cool_off(request)
    seconds = math.ceil(cool_off.total_seconds()) if cool_off else None
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": math.ceil(seconds / 60) if seconds else None},
        status=429,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
