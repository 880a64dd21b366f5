"""Account emails (activation, "you already have an account", password reset), plain text
and HTML from templates.

Sending raises on SMTP errors so that the Celery task can retry; Django refuses header
injection (``BadHeaderError``) and the API's fields refuse CR and LF before we get here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from nexus.accounts.models import User
from nexus.accounts.tokens import activation_tokens, encode_uid, reset_tokens
from nexus.mail import send_templated


def _send(*, template: str, subject: str, to: str, context: dict[str, Any]) -> None:
    send_templated(template=template, subject=subject, to=[to], context=context)


def send_activation(user_id: str) -> bool:
    """Email the activation link; ``False`` if the account is gone or already active."""
    user = User.objects.filter(pk=user_id, is_active=False).first()
    if user is None:
        return False
    link = (f"{settings.NEXUS_PUBLIC_URL}/accounts/activate/{encode_uid(user)}/"
            f"{activation_tokens.make_token(user)}/")
    _send(template="activation", subject="Activate your Nexus account", to=user.email,
          context={"user": user, "link": link})
    return True


def send_account_exists(email: str) -> bool:
    """Tell the owner of ``email`` that someone tried to register it again; ``False`` if no
    account has that address (any more)."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return False
    _send(template="account_exists", subject="You already have a Nexus account", to=user.email,
          context={"user": user, "login_link": f"{settings.NEXUS_PUBLIC_URL}/accounts/login/",
                   "reset_link": f"{settings.NEXUS_PUBLIC_URL}/accounts/password-reset/"})
    return True


def send_password_reset(email: str) -> int:
    """Email a reset link to each active account with this address; how many were sent."""
    sent = 0
    for user in User.objects.filter(email__iexact=email, is_active=True):
        link = (f"{settings.NEXUS_PUBLIC_URL}/accounts/reset/{encode_uid(user)}/"
                f"{reset_tokens.make_token(user)}/")
        _send(template="password_reset", subject="Reset your Nexus password", to=user.email,
              context={"user": user, "link": link})
        sent += 1
    return sent


# Each kind of account email by name, as the dispatcher and the retrying task name them.
SENDERS: dict[str, Callable[[str], object]] = {
    "activation": send_activation,
    "account_exists": send_account_exists,
    "password_reset": send_password_reset,
}
