"""App config of the project package itself (templates, management commands, start-up)."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NexusConfig(AppConfig):
    """Wires the Django-free event store to Django's settings at start-up."""

    name = "nexus"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from events.application import configure
        from nexus.eventstore import create_event_store_tables, event_store_env

        configure(event_store_env)
        # The event store's tables are made by ``migrate`` (once, in autocommit), never by a
        # process as it starts: two processes starting at once raced to create them, and a
        # first use inside a transaction aborted it.
        # post_migrate is sent for apps with models only: hang it on the read tables' app.
        from django.apps import apps

        post_migrate.connect(create_event_store_tables, sender=apps.get_app_config("projections"),
                             dispatch_uid="nexus.create_event_store_tables")


class NexusAdminConfig(admin_apps.AdminConfig):
    """The admin app with :class:`nexus.admin.NexusAdminSite` as ``admin.site``."""

    default = False  # named in INSTALLED_APPS; NexusConfig stays the default of "nexus"
    default_site = "nexus.admin.NexusAdminSite"
