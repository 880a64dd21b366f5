"""App config of the project package itself (templates, management commands, start-up)."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NexusConfig(AppConfig):
    """Wires the Django-free event store to Django's settings at start-up."""

    name = "nexus"

    def ready(self) -> None:
        from events.application import configure
        from nexus.eventstore import event_store_env

        configure(event_store_env)


class NexusAdminConfig(admin_apps.AdminConfig):
    """The admin app with :class:`nexus.admin.NexusAdminSite` as ``admin.site``."""

    default = False  # named in INSTALLED_APPS; NexusConfig stays the default of "nexus"
    default_site = "nexus.admin.NexusAdminSite"
