from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from dashboard.access import readers
from dashboard.tables import with_last_attempt
from messaging.models import Message


@readers
@require_safe
def message_detail(request, pk: int):
    message = get_object_or_404(
        with_last_attempt(Message.objects.select_related("campaign", "client")), pk=pk
    )
    attempts = message.delivery_attempts.order_by("started_at", "id")
    return render(
        request, "dashboard/messages/detail.html", {"message": message, "attempts": attempts}
    )
