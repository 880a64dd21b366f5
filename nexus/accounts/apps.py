"""App config."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, teams and tokens."""

    name = "nexus.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
