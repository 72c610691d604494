"""Function views of the web UI: load, call the domain, render (a page, or its partial for htmx)."""

from __future__ import annotations

from django.shortcuts import render


def wants_partial(request, target: str | None = None) -> bool:
    """An htmx request for a fragment (not a history restore, which needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


def page_or_partial(request, page: str, partial: str, context: dict, *, target=None, status=200):
    template = partial if wants_partial(request, target) else page
    return render(request, template, context, status=status)
