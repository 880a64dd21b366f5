"""How the event store is configured from Django settings."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connections


def event_store_env() -> dict[str, str]:
    """eventsourcing's persistence settings, derived from the default database.

    PostgreSQL uses the library's own ``eventsourcing.postgres`` module in the same database
    as the read tables. ``POSTGRES_ENABLE_DB_FUNCTIONS`` stays off: in 9.5.6 it breaks the
    global ordering of notifications that the projections rely on. Read at first use, so a
    test run's ``test_`` database is the one used.
    """
    database = connections["default"].settings_dict
    if "postgresql" in database["ENGINE"]:
        ceiling = max(settings.EVENT_STORE_POOL_MAX, 1)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(database["NAME"]),
            "POSTGRES_HOST": str(database.get("HOST") or "127.0.0.1"),
            "POSTGRES_PORT": str(database.get("PORT") or "5432"),
            "POSTGRES_USER": str(database.get("USER") or "postgres"),
            "POSTGRES_PASSWORD": str(database.get("PASSWORD") or ""),
            # One connection kept warm, the rest opened on demand up to the ceiling; the
            # library uses the connect timeout as the pool's checkout timeout as well.
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": str(ceiling - 1),
            "POSTGRES_CONNECT_TIMEOUT": str(max(int(settings.DB_POOL_TIMEOUT), 1)),
            "POSTGRES_LOCK_TIMEOUT": "5",
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_PRE_PING": "y" if settings.EVENT_STORE_PRE_PING else "n",
            "CREATE_TABLE": "y",
        }
    path = Path(settings.EVENT_STORE_SQLITE_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "20",
        "CREATE_TABLE": "y",
    }
