"""App config of the project package itself (templates, management commands, start-up)."""

from django.apps import AppConfig


class NexusConfig(AppConfig):
    """Wires the Django-free event store to Django's settings at start-up."""

    name = "nexus"

    def ready(self) -> None:
        from events.application import configure
        from nexus.eventstore import event_store_env

        configure(event_store_env)
