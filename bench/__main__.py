"""Write-side benchmark: how fast does Nexus append events, next to raw PostgreSQL inserts?

``python -m bench`` (from the project root, in the venv) runs this benchmark, then the
read-side one (:mod:`bench.read_side`) in a child process, then the GraphQL limits one
(:mod:`bench.graphql_limits`, seconds, no database); ``python -m bench write``,
``python -m bench read``, ``python -m bench limits`` or ``python -m bench documents``
(:mod:`bench.documents`: PDF render times, export rate) runs only one. This one uses
``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/nexus_bench``), creates that
database if it is missing and empties the event store before measuring, so the figures never
depend on earlier runs.

Measured, single client, one command per transaction:

- ``invoice_add_line``: the full command path (load the invoice from its snapshot and events,
  decide, append with optimistic concurrency), the cost every invoice command pays;
- ``client_register``: a pure append (nothing to load), the floor of the command path.

Then ``pgbench`` inserts single rows, of the same size as our events, into a table shaped like
the event table: what this PostgreSQL does without the library, the domain or the transcoding.
The ratio says how much of the hardware's insert rate the command path gets. The whole run
takes well under a minute.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse
from uuid import UUID, uuid4

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nexus_bench"
COMMANDS = 2000
DRAFTS = 40  # add_line spreads over drafts, so no invoice grows unrealistically long
PGBENCH_SECONDS = 10


def prepare_environment() -> str:
    """Point Django at the benchmark database before anything imports the settings."""
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "nexus.settings"
    return url


def connection_args(url: str) -> dict[str, str]:
    """libpq parameters from a ``postgres://`` URL (for psycopg and pgbench alike)."""
    parsed = urlparse(url)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": str(parsed.port or 5432),
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or ""),
        "dbname": parsed.path.lstrip("/") or "nexus_bench",
    }


def ensure_database(args: dict[str, str]) -> str:
    """Create the benchmark database if missing (CREATE DATABASE needs autocommit).

    Returns the server version, for the machine line.
    """
    import psycopg
    from psycopg import sql

    server = {**args, "dbname": "postgres"}
    with psycopg.connect(**server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (args["dbname"],)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args["dbname"])))
        return str(conn.execute("SHOW server_version").fetchone()[0])


def empty_event_store(app) -> None:
    """Truncate the event and snapshot tables, so each run measures the same work."""
    tables = [app.recorder.events_table_name]
    if app.snapshots is not None:
        tables.append(app.snapshots.recorder.events_table_name)
    with app.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")


def measure(label: str, command: Callable[[int], None], app) -> dict[str, float]:
    """Run ``command`` COMMANDS times, one at a time; rates and latency percentiles."""
    first = app.max_position()
    latencies = []
    started = time.perf_counter()
    for number in range(COMMANDS):
        begin = time.perf_counter()
        command(number)
        latencies.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    events = app.max_position() - first
    return {
        "label": label,
        "commands_per_s": COMMANDS / elapsed,
        "events_per_s": events / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000,
    }


def bench_commands(app) -> tuple[list[dict[str, float]], int]:
    """The two command-path measurements; also returns the mean stored event size in bytes."""
    from commands import clients, invoices
    from events.access import Caller
    from events.values import Role

    caller = Caller(id=uuid4(), username="bench", role=Role.ADMIN, team_id=None,
                    managed_team_ids=frozenset())
    client_id = clients.client_register(
        caller=caller, fields={"name": "Bench", "email": "bench@example.com"}).id
    drafts: list[UUID] = [
        invoices.invoice_create(caller=caller, client_id=client_id, currency="EUR").id
        for _ in range(DRAFTS)
    ]
    line = {"description": "Consulting", "quantity": Decimal("1.5"),
            "unit_price": Decimal("120.00"), "tax_rate": Decimal("19")}

    def add_line(number: int) -> None:
        invoices.invoice_add_line(invoice_id=drafts[number % DRAFTS], caller=caller,
                                  fields=line)

    def register_client(number: int) -> None:
        clients.client_register(caller=caller, fields={
            "name": f"Client {number}", "email": f"client{number}@example.com"})

    results = [measure("invoice_add_line (load+decide+append)", add_line, app),
               measure("client_register (append only)", register_client, app)]
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT avg(length(state))::int AS size "  # noqa: S608 - our table
                       f"FROM {app.recorder.events_table_name}")
        size = int(cursor.fetchone()["size"])
    return results, size


PGBENCH_SETUP = """
CREATE TABLE IF NOT EXISTS bench_insert(id bigserial primary key, originator_id uuid,
    originator_version int, topic text, state bytea);
TRUNCATE bench_insert RESTART IDENTITY;
"""


def bench_pgbench(args: dict[str, str], state_size: int) -> float:
    """Raw single-row INSERT transactions per second from pgbench, one client, one thread.

    Each row carries a ``state`` as large as our average stored event, so the comparison is
    about the path, not the payload.
    """
    import psycopg

    with psycopg.connect(**args, autocommit=True) as conn:
        conn.execute(PGBENCH_SETUP)
    script = ("INSERT INTO bench_insert(originator_id, originator_version, topic, state) "
              f"VALUES (gen_random_uuid(), 1, 'bench:Event', "
              f"convert_to(repeat('x', {state_size}), 'UTF8'));\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "insert.sql"
        path.write_text(script)
        completed = subprocess.run(
            ["pgbench", "-n", "-c", "1", "-j", "1", "-T", str(PGBENCH_SECONDS), "-f", str(path),
             "-h", args["host"], "-p", args["port"], "-U", args["user"], args["dbname"]],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PGPASSWORD": args["password"]},
        )
    match = re.search(r"tps = ([\d.]+)", completed.stdout)
    if match is None:
        raise RuntimeError(f"Could not read pgbench's tps:\n{completed.stdout}")
    return float(match.group(1))


def main() -> None:
    """Measure and print the figures."""
    url = prepare_environment()
    args = connection_args(url)
    server_version = ensure_database(args)

    import django

    django.setup()
    from django.core.management import call_command

    from events.application import get_application

    call_command("migrate", verbosity=0)  # also creates the event store's tables
    app = get_application()
    empty_event_store(app)
    print(f"machine: nproc={os.cpu_count()}, PostgreSQL {server_version}, "
          f"Python {platform.python_version()}, {platform.platform()}")
    print(f"database: {args['host']}:{args['port']}/{args['dbname']}, {COMMANDS} commands "
          f"per measurement, single client, one command per transaction")
    results, state_size = bench_commands(app)
    empty_event_store(app)
    tps = bench_pgbench(args, state_size)

    print(f"{'measurement':<40} {'commands/s':>10} {'events/s':>10} {'median ms':>10} "
          f"{'p99 ms':>8} {'vs pgbench':>10}")
    for row in results:
        print(f"{row['label']:<40} {row['commands_per_s']:>10.0f} {row['events_per_s']:>10.0f} "
              f"{row['median_ms']:>10.2f} {row['p99_ms']:>8.2f} "
              f"{row['events_per_s'] / tps:>10.1%}")
    print(f"{'pgbench single-row INSERT (' + str(state_size) + ' B state)':<40} {tps:>10.0f} "
          f"{tps:>10.0f} {'(mean ' + format(1000 / tps, '.2f') + ')':>10} {'':>8} {1:>10.1%}")
    print(f"ratio pgbench / invoice_add_line events: {tps / results[0]['events_per_s']:.1f}x; "
          f"pgbench / client_register: {tps / results[1]['events_per_s']:.1f}x")
    app.close()


def run(argv: list[str]) -> int:
    """``python -m bench [write|read|limits|documents] [options]``: all benchmarks when none is
    named.

    The read side runs in a process of its own: Django reads its settings once per process,
    and that benchmark needs its own database, projection mode and cache. The limits one
    needs neither Django nor a database.
    """
    named = argv[:1] in (["write"], ["read"], ["limits"], ["documents"])
    which, options = (argv[0], argv[1:]) if named else ("", argv)
    if which == "read":
        from bench.read_side import main as read_side

        read_side(options)
        return 0
    if which == "limits":
        from bench.graphql_limits import main as graphql_limits

        graphql_limits()
        return 0
    if which == "documents":
        from bench.documents import main as documents

        documents()
        return 0
    environment = dict(os.environ)  # as given, before main() points DATABASE_URL at nexus_bench
    main()
    if which == "write":
        return 0
    print(flush=True)
    code = subprocess.run([sys.executable, "-m", "bench", "read", *options],
                          env=environment, check=False).returncode
    print(flush=True)
    code = subprocess.run([sys.executable, "-m", "bench", "limits"],
                          env=environment, check=False).returncode or code
    print(flush=True)
    return subprocess.run([sys.executable, "-m", "bench", "documents"],
                          env=environment, check=False).returncode or code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
