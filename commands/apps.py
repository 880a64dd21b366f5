"""App config."""

from django.apps import AppConfig


class CommandsConfig(AppConfig):
    """The REST command API."""

    name = "commands"
