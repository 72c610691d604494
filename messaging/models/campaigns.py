from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from messaging.sms import validate_sms_length
from messaging.validators import tag_key, validate_operator_codes, validate_tags


class CampaignStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


@dataclass(frozen=True)
class Transition:
    """A lifecycle action: the statuses it is allowed from, and how its refusal reads."""

    allowed_from: tuple[str, ...]
    # How the refusal ends: "A cancelled campaign cannot be <participle>."
    participle: str


_UNFINISHED = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)

# Which action each status allows, the one table of it: the services refuse the rest (the
# API answers their refusal as a 400), the UI offers only these and words its refusal the same.
TRANSITIONS: dict[str, Transition] = {
    "pause": Transition(
        (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
        pgettext_lazy("cannot be …", "paused"),
    ),
    "resume": Transition((CampaignStatus.PAUSED,), pgettext_lazy("cannot be …", "resumed")),
    "cancel": Transition(_UNFINISHED, pgettext_lazy("cannot be …", "cancelled")),
    # A finished campaign runs again to send its failed messages; a cancelled one never does.
    "retry": Transition(
        (*_UNFINISHED, CampaignStatus.FINISHED), pgettext_lazy("cannot be …", "retried")
    ),
    # A running campaign is cancelled first (services.delete_campaign).
    "delete": Transition(tuple(CampaignStatus.values), pgettext_lazy("cannot be …", "deleted")),
}


class Campaign(models.Model):
    """A text sent once to every client matching the filter, between start_at and end_at."""

    name = models.CharField(max_length=200, blank=True, default="")
    text = models.TextField(validators=[validate_sms_length])
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    operator_codes = models.JSONField(
        default=list, blank=True, validators=[validate_operator_codes]
    )
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    send_window_start = models.TimeField(null=True, blank=True)
    send_window_end = models.TimeField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.SCHEDULED
    )
    # Set once the targets have been selected; later edits of the filter are refused.
    targets_selected_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Who paused it and when, for "why isn't it sending?" (kept after a resume, unused then).
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "start_at"], name="campaign_status_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__gt=models.F("start_at")),
                name="campaign_end_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(send_window_start__isnull=True, send_window_end__isnull=True)
                    | models.Q(send_window_start__isnull=False, send_window_end__isnull=False)
                ),
                name="campaign_send_window_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return self.name or gettext("Campaign #%(id)s") % {"id": self.pk}

    @property
    def has_send_window(self) -> bool:
        return self.send_window_start is not None and self.send_window_end is not None

    @property
    def is_active(self) -> bool:
        return self.status in _UNFINISHED

    @property
    def is_editable(self) -> bool:
        """Anything but cancelled: a finished campaign can still be extended to resend."""
        return self.status != CampaignStatus.CANCELLED

    @property
    def has_started(self) -> bool:
        return self.targets_selected_at is not None

    def allows(self, action: str) -> bool:
        """Whether `action` (a key of TRANSITIONS) may happen in the current status."""
        return self.status in TRANSITIONS[action].allowed_from

    def refusal(self, action: str) -> str:
        """Why `action` may not happen now: the services raise it, the UI shows it."""
        return gettext("A %(status)s campaign cannot be %(action)s.") % {
            "status": self.get_status_display().lower(),
            "action": TRANSITIONS[action].participle,
        }

    def clean(self) -> None:
        """Rules across fields, shared by the API, the forms and the admin."""
        errors: dict[str, object] = {}
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            errors["end_at"] = _("End must be after start.")
        errors.update(self.send_window_problems())
        if errors:
            raise ValidationError(errors)

    def send_window_problems(self) -> dict[str, str]:
        """What is wrong with the send window, by field: clean() and the form's live preview."""
        if (self.send_window_start is None) != (self.send_window_end is None):
            missing = "send_window_end" if self.send_window_end is None else "send_window_start"
            return {missing: _("Give both ends of the send window, or neither.")}
        if self.has_send_window and self.send_window_start == self.send_window_end:
            return {
                "send_window_end": _("The send window must not start and end at the same time.")
            }
        return {}

    def matching_clients(self):
        from messaging.models.clients import Client

        clients = Client.objects.all()
        if self.operator_codes:
            clients = clients.filter(operator_code__in=self.operator_codes)
        if self.tags:
            clients = clients.filter(tag_key__in=self.tag_keys)
        return clients

    def duplicate_values(self) -> dict:
        """What a copy of this campaign starts with: everything but the times."""
        name = _("%(name)s (copy)") % {"name": self.name} if self.name else ""
        return {
            "name": name[: self._meta.get_field("name").max_length],
            "text": self.text,
            "operator_codes": list(self.operator_codes),
            "tags": list(self.tags),
            "send_window_start": self.send_window_start,
            "send_window_end": self.send_window_end,
        }

    @property
    def tag_keys(self) -> list[str]:
        """The tags as matching compares them: `VIP` finds clients tagged `vip`."""
        return sorted({tag_key(t) for t in self.tags})

    def send_window_text(self) -> str:
        """The send window in plain words, for people reading the campaign."""
        if not self.has_send_window:
            return gettext("Any time of day between start and end.")
        times = {
            "start": self.send_window_start.strftime("%H:%M"),
            "end": self.send_window_end.strftime("%H:%M"),
        }
        if self.send_window_end < self.send_window_start:
            return (
                gettext(
                    "Only between %(start)s and %(end)s in each client's local time "
                    "(overnight, across midnight)."
                )
                % times
            )
        return gettext("Only between %(start)s and %(end)s in each client's local time.") % times


FILTER_FIELDS = ("operator_codes", "tags")
# What people set on a campaign, in the order the form and the API list them.
INPUT_FIELDS = (
    "name",
    "text",
    "start_at",
    "end_at",
    *FILTER_FIELDS,
    "send_window_start",
    "send_window_end",
)
EDITABLE_AFTER_START = ("name", "text", "end_at", "send_window_start", "send_window_end")
