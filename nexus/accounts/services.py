"""Self-service account flows: register, activate, reset a password; expired tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.values import Role
from nexus.accounts.models import AccessToken, User, token_expiry_cutoff
from nexus.accounts.tokens import activation_tokens, reset_tokens, user_from_uid
from nexus.dispatch import dispatcher

USERNAME_TAKEN = "A user with that username already exists."
# One "you already have an account" email per address per cooldown, as for reset emails:
# registering someone's address again and again must not flood their mailbox.
ACCOUNT_EXISTS_EMAIL_COOLDOWN_SECONDS = 120


def user_register(*, username: str, email: str, password: str) -> None:
    """Create an inactive ``user`` (no team) and email its activation link; if the address
    already has an account, email its owner a reminder instead.

    The caller cannot tell the two apart (nothing is returned), and neither can a client
    (API.md: registered addresses are not revealed). A taken username is refused.
    """
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = [USERNAME_TAKEN]
    try:
        password_validation.validate_password(password, User(username=username, email=email))
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user = _create_inactive_user(username=username, email=email, password=password)
    if user is not None:
        transaction.on_commit(lambda: dispatcher().account_email("activation", str(user.pk)))
    elif cache.add(f"account-exists:{email.lower()}", 1,
                   timeout=ACCOUNT_EXISTS_EMAIL_COOLDOWN_SECONDS):
        transaction.on_commit(lambda: dispatcher().account_email("account_exists", email))


def _create_inactive_user(*, username: str, email: str, password: str) -> User | None:
    """The new account; ``None`` if the address already has one.

    The password is hashed either way: hashing is by far the slowest step, and skipping it
    for taken addresses would tell them by the time the answer takes.
    """
    if User.objects.filter(email__iexact=email).exists():
        make_password(password)
        return None
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, email=email, password=password,
                                            role=Role.USER.value, is_active=False)
    except IntegrityError:  # a concurrent registration took the name or address since the check
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": [USERNAME_TAKEN]}) from None
        return None


def activation_link_user(*, uid: str, token: str) -> User | None:
    """The inactive user a valid activation link names; ``None`` for a bad, used or expired
    link. Reads only: following the link must change nothing."""
    user = user_from_uid(uid)
    if user is None or user.is_active or not activation_tokens.check_token(user, token):
        return None
    return user


def user_activate(*, uid: str, token: str) -> User | None:
    """Activate the account a link names; ``None`` for a bad, used or expired link."""
    user = activation_link_user(uid=uid, token=token)
    if user is None:
        return None
    user.is_active = True
    # The link's hash covers last_login: stamping it kills the link for good. Otherwise the
    # same link would reactivate the account after an admin deactivated it.
    user.last_login = timezone.now()
    user.save(update_fields=["is_active", "last_login"])
    return user


RESET_EMAIL_COOLDOWN_SECONDS = 120


def password_reset_request(*, email: str) -> None:
    """Queue the reset email; the same work whether or not the address is known.

    The lookup happens in the task, so the answer takes the same time either way. One email
    per address per cooldown: the form is not throttled, so this keeps it from being used to
    flood someone's mailbox.
    """
    if cache.add(f"password-reset:{email.strip().lower()}", 1,
                 timeout=RESET_EMAIL_COOLDOWN_SECONDS):
        dispatcher().account_email("password_reset", email)


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link; the link then stops working, and so do the
    user's tokens (``User.save``)."""
    user = user_from_uid(uid)
    if user is None or not user.is_active or not reset_tokens.check_token(user, token):
        raise ValidationError({"token": ["This reset link is invalid, used or expired."]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password": list(error.messages)}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


def access_tokens_delete_expired(*, now: datetime) -> int:
    """Delete the tokens unused for longer than ``NEXUS_TOKEN_TTL_HOURS``; how many.

    They no longer work anyway (and go when presented); this keeps the table from growing
    with the tokens of clients that never come back.
    """
    deleted, _ = AccessToken.objects.filter(last_used_at__lt=token_expiry_cutoff(now)).delete()
    return deleted
