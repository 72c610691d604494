"""Every email Herald sends: a subject, a text body and an HTML body, one template each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict) -> RenderedEmail:
    """Render `templates/email/<name>/{subject.txt,body.txt,body.html}`."""
    subject = render_to_string(f"email/{name}/subject.txt", context)
    return RenderedEmail(
        # A header must be one line whatever the template's whitespace.
        subject=" ".join(subject.split()),
        text=render_to_string(f"email/{name}/body.txt", context),
        html=render_to_string(f"email/{name}/body.html", context),
    )


def send_email(email: RenderedEmail, recipients: Sequence[str]) -> None:
    """Send as multipart/alternative: mail clients show the HTML, others the text."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(recipients),
    )
    message.attach_alternative(email.html, "text/html")
    message.send()
