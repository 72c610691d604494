from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from messaging.campaigns.phones import phone_error
from messaging.campaigns.validators import (
    NAME_MAX_LENGTH,
    operator_code_validator,
    phone_validator,
    tag_key,
    validate_attributes,
    validate_timezone,
)


class TagKeyField(models.CharField):
    """The tag as matching compares it (messaging.campaigns.validators.tag_key), filled from `tag`.

    pre_save runs on save() and on bulk_create, so every ORM write keeps it current;
    the CSV import's raw upsert writes it too. A queryset .update(tag=...) would not:
    update tag_key with it.
    """

    def pre_save(self, model_instance, add):
        value = tag_key(model_instance.tag)
        setattr(model_instance, self.attname, value)
        return value


def default_client_timezone() -> str:
    """A client's zone when none is given: the CLIENT_DEFAULT_TIMEZONE setting."""
    return settings.CLIENT_DEFAULT_TIMEZONE


class Via(models.TextChoices):
    """How an opt-out or a stop-list entry came: a person in the UI, a file, the API."""

    HAND = "hand", _("by hand")
    IMPORT = "import", _("import")
    API = "api", _("API")


class Client(models.Model):
    """Someone Herald can send to: a phone with its operator code, a tag and a time zone,
    and the personal fields a text may use: a name and custom fields (`attributes`)."""

    phone = models.CharField(
        _("phone"),
        max_length=11,
        unique=True,
        error_messages={"unique": _("A client with this phone already exists.")},
        validators=[phone_validator],
        help_text=_("11 digits starting with 7, e.g. 79161234567."),
    )
    operator_code = models.CharField(
        _("operator code"),
        max_length=3,
        blank=True,
        validators=[operator_code_validator],
        help_text=_("3 digits; defaults to digits 2-4 of the phone."),
    )
    tag = models.CharField(
        _("tag"), max_length=100, blank=True, default="", help_text=_("Free text label.")
    )
    # What campaign filters and the tag filters compare, so `VIP` finds `vip` (Cyrillic too).
    tag_key = TagKeyField(max_length=100, blank=True, default="", editable=False)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_client_timezone,
        validators=[validate_timezone],
        help_text=_(
            "IANA time zone name, e.g. Europe/Moscow; CLIENT_DEFAULT_TIMEZONE when left out."
        ),
    )
    # Database defaults too, so a raw INSERT that names neither (the benchmarks' bulk
    # loads) still makes a valid row.
    name = models.CharField(
        pgettext_lazy("person", "name"),
        max_length=NAME_MAX_LENGTH,
        blank=True,
        default="",
        db_default="",
        help_text=_("How to address them."),
    )
    # A flat map of short strings ({"city": "Казань"}), keys usable as merge tags; the rule
    # is messaging.campaigns.validators.validate_attributes.
    attributes = models.JSONField(
        _("custom fields"),
        default=dict,
        db_default={},
        blank=True,
        validators=[validate_attributes],
        help_text=_("Custom fields: names and short texts."),
    )
    # Opted out: asked not to be messaged (when, how, why). Never targeted while set; an
    # import never clears it; the phone also goes on the stop list (see StopListEntry).
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opted_out_via = models.CharField(
        max_length=10, choices=Via.choices, blank=True, default="", db_default=""
    )
    opted_out_reason = models.CharField(max_length=200, blank=True, default="", db_default="")
    # Prior consent to promotional messages (38-FZ art. 18): promotional campaigns target
    # only clients with a consent_at.
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_("Where the consent was given, e.g. a signed form or a web page."),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["id"]
        indexes = [
            # Campaign targeting filters by operator code and tag together.
            models.Index(fields=["operator_code", "tag_key"], name="client_operator_tag_key"),
            models.Index(fields=["tag_key"], name="client_tag_key"),
            models.Index(fields=["timezone"], name="client_timezone"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(operator_code__regex=r"^[0-9]{3}$"),
                name="client_operator_code_3_digits",
            ),
        ]

    def __str__(self) -> str:
        return self.phone

    def save(self, *args, **kwargs) -> None:
        self._fill_operator_code()
        super().save(*args, **kwargs)
        if self.attributes:
            ClientField.remember(self.attributes)

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    @property
    def has_consent(self) -> bool:
        return self.consent_at is not None

    def clean_fields(self, exclude=None) -> None:
        # Before validation, so a blank code passes the 3-digit constraint.
        self._fill_operator_code()
        super().clean_fields(exclude=exclude)

    def validate_constraints(self, exclude=None) -> None:
        # An invalid phone has its own error; the code taken from it would only add
        # Django's "Constraint client_operator_code_3_digits is violated" to the form.
        if phone_error(self.phone or ""):
            exclude = {*(exclude or ()), "operator_code"}
        super().validate_constraints(exclude=exclude)

    def _fill_operator_code(self) -> None:
        if not self.operator_code and self.phone:
            self.operator_code = self.default_operator_code(self.phone)

    @staticmethod
    def default_operator_code(phone: str) -> str:
        return phone[1:4]


class ClientField(models.Model):
    """A custom field's name some client was given: what a campaign text may use as a merge
    tag besides {name}. Written where attributes are written (Client.save, the import), so
    knowing the fields never scans every client; a name stays known when its clients are
    deleted (a text using it then renders the tag's fallback)."""

    name = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def remember(cls, names) -> None:
        names = set(names)
        if names - cls.known():
            # django-stubs read cls(...) as ClientField and cls.objects as a manager of Self.
            cls.objects.bulk_create([cls(name=n) for n in sorted(names)], ignore_conflicts=True)  # type: ignore[misc]

    @classmethod
    def known(cls) -> set[str]:
        return set(cls.objects.values_list("name", flat=True))


class StopListEntry(models.Model):
    """A phone that is never messaged, kept apart from clients: deleting a client and
    importing it again never re-subscribes it. An opt-out puts the client's phone here; an
    opt-in (a person's explicit act) takes it off."""

    phone = models.CharField(max_length=11, unique=True, validators=[phone_validator])
    added_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.HAND)
    reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-added_at", "-id"]
        verbose_name_plural = "stop list entries"

    def __str__(self) -> str:
        return self.phone
