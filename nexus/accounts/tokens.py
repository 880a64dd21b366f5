"""Single-use, time-limited tokens for account activation and password reset."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from nexus.accounts.models import User


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """Like the reset token, but also bound to ``is_active``: it works once."""

    key_salt = "nexus.accounts.tokens.ActivationTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


activation_tokens = ActivationTokenGenerator()
# Django's reset token hashes the password and last login, so it dies once used; its
# lifetime is PASSWORD_RESET_TIMEOUT (one hour, in settings).
reset_tokens = PasswordResetTokenGenerator()


def encode_uid(user: User) -> str:
    """The user's id as it travels in links."""
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_from_uid(uid: str) -> User | None:
    """The user a link's ``uid`` names, or ``None`` for garbage."""
    try:
        return User.objects.filter(pk=force_str(urlsafe_base64_decode(uid))).first()
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None
    except Exception:  # a malformed UUID raises ValidationError from the field
        return None
