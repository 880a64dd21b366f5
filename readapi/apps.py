"""App config."""

from django.apps import AppConfig


class ReadapiConfig(AppConfig):
    """The readapi app."""

    name = "readapi"
