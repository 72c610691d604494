from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from messaging.campaigns.merge import validate_template
from messaging.campaigns.validators import tag_key, validate_operator_codes, validate_tags

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


@dataclass(frozen=True)
class Transition:
    """An action: the statuses it is allowed from, the statuses it moves a campaign to
    (none for an action that changes no status), and how its refusal reads."""

    allowed_from: tuple[str, ...]
    # How the refusal ends: "A cancelled campaign cannot be <participle>."
    participle: StrOrPromise
    to: tuple[str, ...] = ()
    # The engine's own move (start, finish, reopen): nobody asks for it in the UI or API.
    engine: bool = False


_UNFINISHED = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
# What a new campaign may be created as: a draft (the web UI) or scheduled (the API default).
INITIAL_STATUSES = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)

# Which action each status allows and where it leads: the one table of the lifecycle. The
# services refuse the rest (the API answers their refusal as a 400), the UI offers only
# these and words its refusal the same, and every write of a status, the engine's included,
# goes through `CampaignQuerySet.move`, which checks it here.
TRANSITIONS: dict[str, Transition] = {
    # A person's moves.
    "launch": Transition(
        (CampaignStatus.DRAFT,),
        pgettext_lazy("cannot be …", "launched"),
        to=(CampaignStatus.SCHEDULED,),
    ),
    "pause": Transition(
        (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
        pgettext_lazy("cannot be …", "paused"),
        to=(CampaignStatus.PAUSED,),
    ),
    "resume": Transition(
        (CampaignStatus.PAUSED,),
        pgettext_lazy("cannot be …", "resumed"),
        to=(CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
    ),
    "cancel": Transition(
        _UNFINISHED, pgettext_lazy("cannot be …", "cancelled"), to=(CampaignStatus.CANCELLED,)
    ),
    # A finished campaign runs again to send its failed messages (`reopen`); a cancelled
    # one never does.
    "retry": Transition(
        (*_UNFINISHED, CampaignStatus.FINISHED), pgettext_lazy("cannot be …", "retried")
    ),
    # Anything but cancelled: a finished campaign can still be extended to resend.
    "edit": Transition(
        (CampaignStatus.DRAFT, *_UNFINISHED, CampaignStatus.FINISHED),
        pgettext_lazy("cannot be …", "edited"),
    ),
    # A running campaign is cancelled first (services.delete_campaign).
    "delete": Transition(tuple(CampaignStatus.values), pgettext_lazy("cannot be …", "deleted")),
    # The engine's moves.
    "start": Transition(
        (CampaignStatus.SCHEDULED,),
        pgettext_lazy("cannot be …", "started"),
        engine=True,
        to=(CampaignStatus.RUNNING,),
    ),
    "finish": Transition(
        (CampaignStatus.RUNNING, CampaignStatus.PAUSED),
        pgettext_lazy("cannot be …", "finished"),
        engine=True,
        to=(CampaignStatus.FINISHED,),
    ),
    # Failed messages retried, or a later end giving expired ones another chance.
    "reopen": Transition(
        (CampaignStatus.FINISHED,),
        pgettext_lazy("cannot be …", "reopened"),
        engine=True,
        to=(CampaignStatus.RUNNING,),
    ),
}


class StatusWriteRefused(RuntimeError):
    """A campaign's status written around the transitions table: a bug, never user input."""


class TransitionRefused(ValidationError):
    """A lifecycle action not allowed in the campaign's current status (the API answers
    it as a 400, the UI shows it)."""


class CampaignQuerySet(models.QuerySet):
    def move(self, action: str, to: str, **fields) -> int:
        """The one writer of campaigns' statuses: move the campaigns of this queryset whose
        status allows `action` to `to`, in one conditional UPDATE (cheap, and safe against
        a concurrent move: a row whose status changed meanwhile is left alone). Returns
        how many moved. `fields` are written on the moved rows too."""
        transition = TRANSITIONS[action]
        if to not in transition.to:
            raise StatusWriteRefused(f"{action} does not lead to {to}")
        fields.setdefault("updated_at", timezone.now())
        rows = self.filter(status__in=transition.allowed_from)
        return super(CampaignQuerySet, rows).update(status=to, **fields)

    def update(self, **kwargs) -> int:
        if "status" in kwargs:
            raise StatusWriteRefused("a campaign's status changes only through move()")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None) -> int:
        if "status" in fields:
            raise StatusWriteRefused("a campaign's status changes only through move()")
        return super().bulk_update(objs, fields, batch_size=batch_size)


class Campaign(models.Model):
    """A text sent once to every client matching the filter, between start_at and end_at."""

    name = models.CharField(max_length=200, blank=True, default="")
    text = models.TextField(validators=[validate_template])
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    operator_codes = models.JSONField(
        default=list, blank=True, validators=[validate_operator_codes]
    )
    tags = models.JSONField(default=list, blank=True, validators=[validate_tags])
    send_window_start = models.TimeField(null=True, blank=True)
    send_window_end = models.TimeField(null=True, blank=True)
    # Advertising (38-FZ art. 18): only clients with consent are targeted.
    promotional = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("Only clients who consented to promotional messages get it."),
    )
    status = models.CharField(
        max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.SCHEDULED
    )
    # Who launched the draft and when (a campaign created through the API without a draft
    # was never launched: it starts by itself).
    launched_at = models.DateTimeField(null=True, blank=True)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Messages already with the provider when the campaign was cancelled: they are counted
    # as sent when the provider accepts them, so "cancelled" shrinks by up to this many.
    in_flight_at_cancel = models.PositiveIntegerField(null=True, blank=True)
    # Set once the targets have been selected; later edits of the filter are refused.
    targets_selected_at = models.DateTimeField(null=True, blank=True)
    # Who the target selection left out and why: [{"code", "count"}] (audience.left_out).
    left_out_at_start = models.JSONField(null=True, blank=True)
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

    objects = CampaignQuerySet.as_manager()

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

    # The status as last read or written: save() refuses one changed around move().
    _stored_status: str | None

    def save(self, *args, **kwargs) -> None:
        """A new campaign takes any status; an existing one changes status only by move()."""
        stored = getattr(self, "_stored_status", None)
        update_fields = kwargs.get("update_fields")
        writes_status = update_fields is None or "status" in update_fields
        changed = stored is not None and self.status != stored
        if not self._state.adding and writes_status and changed:
            raise StatusWriteRefused("a campaign's status changes only through move()")
        super().save(*args, **kwargs)
        self._stored_status = self.status

    @classmethod
    # django-stubs describe Django 6's from_db (a fetch_mode argument); 5.2 passes three.
    def from_db(cls, db, field_names, values):  # type: ignore[override]
        campaign = super().from_db(db, field_names, values)
        campaign._stored_status = campaign.__dict__.get("status")
        return campaign

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._stored_status = self.__dict__.get("status")

    def move(self, action: str, to: str, **fields) -> None:
        """Move this campaign by the transitions table (see CampaignQuerySet.move); the
        instance then shows the new status and fields.

        Raises TransitionRefused, having written nothing, when the table does not allow
        `action` from the status this instance shows or from the status stored now (the
        row changed since it was read: without a row lock, SQLite's case).
        """
        if not self.allows(action):
            raise TransitionRefused({"status": [self.refusal(action)]})
        fields.setdefault("updated_at", timezone.now())
        if not Campaign.objects.filter(pk=self.pk).move(action, to, **fields):
            stored = Campaign.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            refused = Campaign(status=stored or self.status)
            raise TransitionRefused({"status": [refused.refusal(action)]})
        for name, value in fields.items():
            setattr(self, name, value)
        self.status = self._stored_status = to

    @property
    def has_send_window(self) -> bool:
        return self.send_window_start is not None and self.send_window_end is not None

    @property
    def is_active(self) -> bool:
        return self.status in _UNFINISHED

    @property
    def is_draft(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    @property
    def is_editable(self) -> bool:
        """Anything but cancelled: a finished campaign can still be extended to resend."""
        return self.allows("edit")

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
        if problem := self.personal_text_problem():
            errors["text"] = problem
        if errors:
            raise ValidationError(errors)

    def personal_text_problem(self) -> ValidationError | None:
        """A text with merge tags: every field it names is known, and its longest rendering
        among the recipients fits SMS_MAX_PARTS (messaging.campaigns.merge)."""
        from messaging.campaigns import audience, merge, sms

        if not self.text or not merge.tags(self.text):
            return None
        try:
            merge.check_fields(self.text)
            longest = merge.longest_rendering(self.text, audience.recipients(self))
            sms.validate_sms_length(longest.text)
        except ValidationError as exc:
            if getattr(exc, "code", None) != "too_many_parts":
                return exc
            return ValidationError(
                gettext("Filled in for the recipient with the longest fields: %(problem)s")
                % {"problem": " ".join(exc.messages)},
                code="too_many_parts",
            )
        return None

    def send_window_problems(self) -> dict[str, StrOrPromise]:
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
            # get_field may return a relation in general; "name" is a CharField.
            "name": name[: self._meta.get_field("name").max_length],  # type: ignore[union-attr]
            "text": self.text,
            "operator_codes": list(self.operator_codes),
            "tags": list(self.tags),
            "promotional": self.promotional,
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
        assert self.send_window_start is not None and self.send_window_end is not None
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
    "promotional",
    "send_window_start",
    "send_window_end",
)
EDITABLE_AFTER_START = ("name", "text", "end_at", "send_window_start", "send_window_end")

# What people can ask for (the UI's buttons and the API's endpoints).
PERSON_ACTIONS = tuple(action for action, t in TRANSITIONS.items() if not t.engine)
