"""How the event store is configured from Django settings, and the connection it uses.

On PostgreSQL the event store shares Django's connection: a request checks one connection out
of Django's pool and uses it for the token lookup, the aggregate loads, the append and the
read tables alike, instead of a second pool beside Django's (half the connections per process,
no extra checkout and pre-ping per command). The library's own recorders, SQL and error
mapping are kept; only where the connection comes from changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from eventsourcing import persistence
from eventsourcing.persistence import BaseInfrastructureFactory, Environment, EnvType, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore, PostgresFactory
from psycopg.rows import dict_row


class DjangoConnectionDatastore(PostgresDatastore):
    """The library's datastore, on the calling thread's Django connection.

    Outside an atomic block Django's connection is in autocommit mode, as the library's own
    connections are; inside one (a projector's batch, a test) the library's transactions
    become savepoints of it, so a read in the projector's transaction sees what it locked.
    """

    @contextmanager
    def get_connection(self) -> Iterator[Any]:  # type: ignore[override]
        django_connection = connections["default"]
        django_connection.ensure_connection()
        raw = django_connection.connection
        # The library reads rows by column name; Django reads tuples. Nothing of Django's runs
        # on this thread while the library holds the connection, so the factory is swapped.
        previous, raw.row_factory = raw.row_factory, dict_row
        try:
            yield raw
        except psycopg.InterfaceError as error:
            raise persistence.InterfaceError(str(error)) from error
        except psycopg.OperationalError as error:
            raise persistence.OperationalError(str(error)) from error
        except psycopg.DataError as error:
            raise persistence.DataError(str(error)) from error
        except psycopg.IntegrityError as error:
            raise persistence.IntegrityError(str(error)) from error
        except psycopg.InternalError as error:
            raise persistence.InternalError(str(error)) from error
        except psycopg.ProgrammingError as error:
            raise persistence.ProgrammingError(str(error)) from error
        except psycopg.NotSupportedError as error:
            raise persistence.NotSupportedError(str(error)) from error
        except psycopg.DatabaseError as error:
            raise persistence.DatabaseError(str(error)) from error
        except psycopg.Error as error:
            raise persistence.PersistenceError(str(error)) from error
        finally:
            raw.row_factory = previous

    def close(self) -> None:
        """Django owns the connections: nothing of ours to close."""

    def __enter__(self) -> DjangoConnectionDatastore:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class SnapshotRecorder(PostgresAggregateRecorder):
    """The library's snapshot recorder, which asserted an autocommit connection: on Django's
    it may run inside the caller's transaction, where its insert becomes part of it."""

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        if stored_events:
            with self.datastore.get_connection() as conn, conn.transaction(), \
                    conn.cursor() as cursor:
                self._insert_stored_events(cursor, stored_events, **kwargs)
        return None


class DjangoConnectionFactory(PostgresFactory):
    """``eventsourcing.postgres`` with :class:`DjangoConnectionDatastore`."""

    aggregate_recorder_class = SnapshotRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        BaseInfrastructureFactory.__init__(self, env)
        database = connections["default"].settings_dict
        # The connection parameters are unused (no pool is ever opened); the library's
        # datastore keeps the schema, lock timeout and the rest the recorders read.
        self.datastore = DjangoConnectionDatastore(
            dbname=str(database["NAME"]), host="unused", port=5432, user="unused",
            password="", lock_timeout=int(self.env.get(self.POSTGRES_LOCK_TIMEOUT) or 5),
            schema=self.env.get(self.POSTGRES_SCHEMA) or "", enable_db_functions=False,
        )


def event_store_env() -> dict[str, str]:
    """eventsourcing's persistence settings, derived from the default database.

    PostgreSQL: the library's PostgreSQL recorders in the same database as the read tables, on
    Django's connection (:class:`DjangoConnectionFactory`). ``POSTGRES_ENABLE_DB_FUNCTIONS``
    stays off: in 9.5.6 it breaks the global ordering of notifications that the projections
    rely on. Read at first use, so a test run's ``test_`` database is the one used.
    """
    database = connections["default"].settings_dict
    # Recently used aggregates stay in memory; a hit is brought up to date with one query for
    # the events after its version (fast-forward), instead of a snapshot query and an events
    # query. Other processes' writes are therefore always seen.
    cache = {"AGGREGATE_CACHE_MAXSIZE": str(settings.AGGREGATE_CACHE_SIZE),
             "AGGREGATE_CACHE_FASTFORWARD": "y"} if settings.AGGREGATE_CACHE_SIZE > 0 else {}
    if "postgresql" in database["ENGINE"]:
        return {
            "PERSISTENCE_MODULE": f"{__name__}:DjangoConnectionFactory",
            "POSTGRES_LOCK_TIMEOUT": "5",
            "CREATE_TABLE": "n",  # made by migrate: see create_event_store_tables
            **cache,
        }
    path = Path(settings.EVENT_STORE_SQLITE_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "20",
        "CREATE_TABLE": "y",
        **cache,
    }


def create_event_store_tables(using: str = "default", **kwargs: Any) -> None:
    """Create the event store's tables if they are missing (``post_migrate``; idempotent).

    Runs in autocommit: the library creates its types in a transaction that a duplicate
    aborts, which must not be a savepoint of an outer one.
    """
    if using != "default":
        return
    from events.application import NexusApplication

    connection = connections["default"]
    if connection.in_atomic_block:
        raise RuntimeError("The event store's tables are created outside any transaction.")
    application = NexusApplication(env={**event_store_env(), "CREATE_TABLE": "y"})
    application.close()
