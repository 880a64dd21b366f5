"""Anchor: the eventsourcing library's own append rate on PostgreSQL, no web layer.

After ``shared/bench/es_append.py``: an invoice with 3 lines saved in one transaction (4
events), by THREADS threads for SECONDS, in a schema of its own of database ``ES_DB``.
``python -m bench.anchor_append THREADS SECONDS`` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

SCHEMA = "anchor"


def main() -> None:
    threads, seconds = int(sys.argv[1]), float(sys.argv[2])
    database = os.environ.get("ES_DB", "nexus_bench_http")
    user = os.environ.get("ES_USER", "postgres")
    import psycopg

    with psycopg.connect(dbname=database, host="127.0.0.1", user=user, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    os.environ.update(PERSISTENCE_MODULE="eventsourcing.postgres", POSTGRES_DBNAME=database,
                      POSTGRES_HOST="127.0.0.1", POSTGRES_PORT="5432", POSTGRES_USER=user,
                      POSTGRES_PASSWORD="", POSTGRES_POOL_SIZE=str(threads + 1),
                      POSTGRES_SCHEMA=SCHEMA)
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Invoice(Aggregate):
        @event("Created")
        def __init__(self, client: str) -> None:
            self.client = client
            self.lines: list[tuple[str, str, str]] = []

        @event("LineAdded")
        def add_line(self, description: str, quantity: str, unit_price: str) -> None:
            self.lines.append((description, quantity, unit_price))

    class Invoices(Application):
        def create_with_lines(self, count: int) -> None:
            invoice = Invoice(client="acme")
            for _ in range(count):
                invoice.add_line("Consulting", "3", "120.00")
            self.save(invoice)

    app = Invoices()
    counts = [0] * threads
    stop = time.time() + seconds

    def work(index: int) -> None:
        while time.time() < stop:
            app.create_with_lines(3)
            counts[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    began = time.time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.time() - began
    print(json.dumps({"threads": threads, "invoices_per_s": sum(counts) / elapsed}))


if __name__ == "__main__":
    main()
