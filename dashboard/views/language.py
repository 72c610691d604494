from __future__ import annotations

from django.contrib import messages
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.language import SESSION_KEY, set_language_cookie, supported
from dashboard.models import UserPreference
from dashboard.views import redirect_back


@require_POST
def set_language(request):
    """The navigation's language switcher: stored on the user, or in a cookie when signed out.

    Open to anonymous users (the sign-in page has the switcher too); it changes nothing but
    the asker's own language.
    """
    language = request.POST.get("language", "")
    response = redirect_back(request, "/")
    if not supported(language):
        messages.error(request, _("Choose a language from the list."))
        return response
    if request.user.is_authenticated:
        UserPreference.remember_language(request.user, language)
        request.session[SESSION_KEY] = language
    set_language_cookie(response, language)
    with translation.override(language):
        messages.success(request, _("The interface is now in English."))
    return response
