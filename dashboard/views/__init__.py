"""Function views of the web UI: load, call the domain, render (a page, or its partial for htmx)."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def wants_partial(request, target: str | None = None) -> bool:
    """An htmx request for a fragment (not a history restore, which needs the whole page)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return False
    return target is None or htmx.target == target


def page_or_partial(request, page: str, partial: str, context: dict, *, target=None, status=200):
    """The page, or for htmx the fragment `target` names (a page's URL serves its fragments).

    htmx swaps only 2xx answers, so a fragment showing form errors comes with a 200 where
    the page says 400.
    """
    if wants_partial(request, target):
        return render(request, partial, context, status=200 if status >= 400 else status)
    return render(request, page, context, status=status)


def redirect_back(request, fallback: str) -> HttpResponseRedirect:
    """Back to the page a form came from (its `next`), when that is a path on this site;
    else to `fallback` (a URL name or path).

    Never `redirect(next)`: Django would take `X` for a view name and fail to reverse it
    (a 500), and a relative `X` would land beside the form's URL.
    """
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(back)
    return HttpResponseRedirect(resolve_url(fallback))
