"""Every email Nexus sends is rendered here: a text and an HTML body from templates.

Sending raises on SMTP errors so that the task that called it can retry (one policy for all,
``workers.tasks.RETRY``); Django refuses header injection (``BadHeaderError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def templated_message(*, template: str, subject: str, to: Sequence[str],
                      context: dict[str, Any],
                      attachments: Sequence[tuple[str, bytes, str]] = (),
                      headers: dict[str, str] | None = None,
                      reply_to: Sequence[str] | None = None) -> EmailMultiAlternatives:
    """``emails/<template>.txt`` and ``.html`` rendered with ``context``, ready to send."""
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{template}.txt", context), to=list(to),
        from_email=settings.DEFAULT_FROM_EMAIL, headers=headers or {},
        reply_to=list(reply_to) if reply_to else None,
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return message


def send_templated(**message: Any) -> None:
    """Render (:func:`templated_message`) and send one email."""
    templated_message(**message).send(fail_silently=False)
