"""Who may see and change what in the web UI.

Every view carries exactly one of these decorators; a test walks the URL
patterns to prove no page is open to anonymous users.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from security.roles import can_read, is_manager

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def login_required(view):
    """Send anonymous users to sign in; an htmx poll sends the whole page, not the fragment.

    A plain redirect would swap the login page into the polled fragment when a
    session expires, so htmx gets HX-Redirect back to the page it was on.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        htmx = getattr(request, "htmx", None)
        if htmx:
            back = htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(redirect_to_login(back).url)
        return redirect_to_login(request.get_full_path())

    return wrapper


def readers(view):
    """Members of either role may read; only Managers may POST."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_read(request.user):
            raise PermissionDenied(_("Your account has no role in Herald yet."))
        if request.method not in SAFE_METHODS and not is_manager(request.user):
            raise PermissionDenied(_("Managers only: your role can read but not change data."))
        return view(request, *args, **kwargs)

    return wrapper


def managers(view):
    """Managers only, whatever the method (forms that exist only to write)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_manager(request.user):
            raise PermissionDenied(_("Managers only: your role can read but not change data."))
        return view(request, *args, **kwargs)

    return wrapper


def members(view):
    """Any member of a role, any method: things about one's own account."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_read(request.user):
            raise PermissionDenied(_("Your account has no role in Herald yet."))
        return view(request, *args, **kwargs)

    return wrapper
