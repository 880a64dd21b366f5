"""App config."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ProjectionsConfig(AppConfig):
    """The projections app."""

    name = "projections"

    def ready(self) -> None:
        """Exact sums on SQLite need ``nexus_exact_sum`` on every connection (see fields.py)."""
        from django.db import connections

        from projections.fields import register_sqlite_functions

        connection_created.connect(register_sqlite_functions,
                                   dispatch_uid="projections.exact_sum")
        for connection in connections.all(initialized_only=True):  # opened before ready()
            if connection.connection is not None:
                register_sqlite_functions(sender=type(connection), connection=connection)
