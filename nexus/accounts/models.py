"""Users, teams and access tokens.

These are the only mutable tables outside the projections: identity is not event-sourced
(Django's auth owns it); invoice and client events record the actor's id and username.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from events.values import Role


class Team(models.Model):
    """A group of users whose invoices its managers approve and see."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    managers = models.ManyToManyField("User", related_name="managed_teams", blank=True)

    def __str__(self) -> str:
        return self.name


class NexusUserManager(UserManager["User"]):
    """Makes every superuser an admin, so ``createsuperuser --noinput`` gives a working admin."""

    def create_superuser(self, username: str, email: str | None = None,
                         password: str | None = None, **extra_fields: Any) -> User:
        """A superuser always has the ``admin`` role."""
        extra_fields["role"] = Role.ADMIN.value
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person using Nexus, with one role and at most one team."""

    ROLE_CHOICES = [(role.value, role.value) for role in Role]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", blank=True)
    role = models.CharField(max_length=16, choices=ROLE_CHOICES, default=Role.USER.value)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )

    objects = NexusUserManager()
    _password_disabled = False  # set_unusable_password() was called since the last save

    class Meta:
        indexes = [models.Index(fields=["email"])]
        # Case-insensitive uniqueness in the database, so that two registrations racing with
        # "Ann" and "ann", or with the same address, cannot both succeed.
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""),
                                    name="accounts_user_email_ci_unique"),
        ]

    def set_unusable_password(self) -> None:
        """Turning password login off (the admin's password form can) is a password change."""
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; a password change or a deactivation then ends all of the user's tokens.

        API.md wants every way covered: the reset, the admin's forms, ``changepassword``,
        ``set_password(); save()`` anywhere. Django's own code does those through save(), so
        the rule lives here rather than in a service. A password change is told the way
        Django's save() tells it (``_password``, set by set_password(); a hash upgrade at
        login clears it, as that changes no password). An inactive user keeps no tokens, so
        reactivating the account does not bring old ones back.
        """
        ends_tokens = not self._state.adding and (
            self._password is not None or self._password_disabled or not self.is_active)
        self._password_disabled = False
        if not ends_tokens:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():  # never the new password with the old tokens
            super().save(*args, **kwargs)
            AccessToken.objects.filter(user=self).delete()

    @property
    def effective_role(self) -> Role:
        """The role that rules apply: a superuser is an admin whatever the column says."""
        return Role.ADMIN if self.is_superuser else Role(self.role)

    def managed_team_ids(self) -> frozenset[uuid.UUID]:
        """Ids of the teams this user manages, read once per request object."""
        cached = getattr(self, "_managed_team_ids", None)
        if cached is None:
            cached = frozenset(self.managed_teams.values_list("id", flat=True))
            self._managed_team_ids = cached
        return cached


def token_digest(raw: str) -> str:
    """Tokens are stored hashed, so a leaked table leaks no usable credential."""
    return hashlib.sha256(raw.encode()).hexdigest()


def token_expiry_cutoff(now: datetime) -> datetime:
    """Tokens last used before this moment have expired (``NEXUS_TOKEN_TTL_HOURS`` unused)."""
    return now - timedelta(hours=settings.NEXUS_TOKEN_TTL_HOURS)


class AccessToken(models.Model):
    """A Bearer token from a login.

    It ends on logout, ``NEXUS_TOKEN_TTL_HOURS`` after its last use, and with a password change
    or deactivation of its user (``User.save``).
    """

    # Each use extends the token, but recording every use would make every request, reads
    # included, a write. So the time of use is written at most once a minute: a token may
    # expire up to a minute before TTL after its very last use, which no one can tell apart.
    USE_RECORDED_EVERY = timedelta(minutes=1)

    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(db_index=True)  # the index serves the periodic sweep

    @classmethod
    def issue(cls, user: User) -> str:
        """Create a token for ``user`` and return its only plain-text copy."""
        raw = secrets.token_urlsafe(32)
        cls.objects.create(digest=token_digest(raw), user=user, last_used_at=timezone.now())
        return raw

    @classmethod
    def use(cls, raw: str, *, now: datetime) -> AccessToken | None:
        """The live token ``raw`` names, its use at ``now`` recorded; ``None`` if there is none.

        An expired token is deleted here, as it is presented; the periodic sweep
        (:func:`nexus.accounts.services.access_tokens_delete_expired`) deletes the others.
        """
        token = cls.objects.select_related("user").filter(digest=token_digest(raw)).first()
        if token is None:
            return None
        if token.last_used_at < token_expiry_cutoff(now):
            token.delete()
            return None
        if now - token.last_used_at >= cls.USE_RECORDED_EVERY:
            # Conditional, so that simultaneous requests write once and never move it back.
            cls.objects.filter(pk=token.pk, last_used_at__lt=now).update(last_used_at=now)
            token.last_used_at = now
        return token
