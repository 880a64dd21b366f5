"""Read-side benchmark: how fast do the projections catch up, and how fast is a full page?

``python -m bench read`` (from the project root, in the venv; ``python -m bench`` runs it after
the write-side benchmark). It uses ``DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/nexus_bench_read``, a database of its own so nobody's
tests are disturbed), creates it if missing, migrates it, and empties the event store and the
read tables before measuring. ``REDIS_URL`` is blanked: projection is in-process and the cache
is local memory, as in the embedded set-up. ``--profile`` runs the catch-up under cProfile
(slower) and prints the functions it spends its time in. The whole run takes a few minutes.

Measured:

1. Catch-up over a backlog of 100,000 events, the worst case after a projector outage or
   when a new deployment starts from an empty read side: events/s of
   ``projections.projector.catch_up`` from position 0, then of ``rebuild_projections``
   (``projections.rebuild.rebuild``) over the same events. The backlog is a realistic mix
   (clients, drafts, lines, submissions, approvals with gapless numbers, rejections,
   deliveries, payments, voids), built in Python and appended 100 aggregates per call, so
   that generating it takes seconds rather than the hours of one command per event.
2. Latency of the invoice list's heaviest page: 50 invoices with every field of API.md's
   ``Invoice`` (client, owner, lines, tax breakdown, payments, activity) out of 100,000, via
   ``POST /graphql/`` with a Bearer token, as an admin (who sees everything, so the filters,
   not the scoping, select the rows). First pages, status filters and deep pages (keyset
   ``after``) alternate; median and p99 over 200 requests after 20 warm-up requests, and
   the SQL queries per request, which API.md says stay constant whatever the page size.
   The 100,000 invoices come from events when that takes under ~4 minutes (estimated
   from part 1's rates); otherwise the part-1 invoices, projected from real events, are copied
   with new ids and shifted dates by ``bulk_create`` until there are 100,000.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import platform
import pstats
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from typing import Any
from uuid import UUID, uuid4

from bench.__main__ import connection_args, empty_event_store, ensure_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nexus_bench_read"
BACKLOG_EVENTS = 100_000
PAGE_INVOICES = 100_000
SAVE_CHUNK = 100  # aggregates per app.save(): one transaction, one round of inserts
CLIENTS = 40
EVENT_PATH_BUDGET_SECONDS = 240  # above this, the read tables are filled by bulk_create
COPY_BLOCK = 5000  # invoices per bulk_create transaction when copying rows
PAGE_SIZE = 50
WARM_UP, MEASURED = 20, 200
START = datetime(2025, 1, 1, 8, tzinfo=timezone.utc)
STEP = timedelta(minutes=4)  # between two invoices: 100,000 of them span about nine months

# What becomes of each invoice, in proportion (20 slots): a realistic book of invoices.
PLAN = (["draft"] * 2 + ["submitted"] * 2 + ["rejected"] + ["approved"] * 3 + ["sent"] * 3
        + ["partially_paid"] * 3 + ["paid"] * 5 + ["void"])


def prepare_environment() -> str:
    """Point Django at the benchmark database, in-process projection, local-memory cache."""
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["REDIS_URL"] = ""  # empty, not absent, so a .env file cannot set it
    os.environ["NEXUS_THROTTLE_USER"] = "1000000/day"  # 220 requests must not hit the limit
    os.environ["DJANGO_SETTINGS_MODULE"] = "nexus.settings"
    return url


# --- part 1: an event backlog --------------------------------------------------------------

class History:
    """Builds clients and invoices in memory and appends them, many aggregates per call."""

    def __init__(self, app: Any) -> None:
        from events.client import Client
        from events.numbering import InvoiceNumberSequence
        from events.values import Actor

        self.app = app
        self.rng = random.Random(42)
        self.team_id = uuid4()
        self.owners = [Actor(id=uuid4(), username=f"user{n}") for n in range(6)]
        self.approvers = [Actor(id=uuid4(), username=f"manager{n}") for n in range(2)]
        self.system = Actor(id=uuid4(), username="system")
        self.clients = [
            Client.register(client_id=uuid4(), actor=self.approvers[0], at=START,
                            name=f"Client {n} GmbH", email=f"billing{n}@client{n}.example",
                            address=f"Street {n}\n10115 Berlin", default_currency="EUR")
            for n in range(CLIENTS)
        ]
        self.sequence = InvoiceNumberSequence.start(year=START.year, actor=self.approvers[0],
                                                    at=START)
        self.invoices = 0
        self.events = 0

    def generate(self, *, until: Callable[[], bool]) -> None:
        """Append invoices (with clients and the number sequence) until ``until()``."""
        chunk: list[Any] = [*self.clients]
        while not until():
            at = START + STEP * self.invoices
            chunk.append(self._invoice(at))
            self.invoices += 1
            if self.invoices % 2000 == 0:  # now and then a client changes its billing email
                client = self.clients[self.invoices // 2000 % CLIENTS]
                client.change(actor=self.approvers[0], at=at,
                              email=f"accounts{self.invoices}@{client.email.split('@')[1]}")
                chunk.append(client)
            if len(chunk) >= SAVE_CHUNK:
                self._save(chunk)
                chunk = []
        if chunk:
            self._save(chunk)

    def _save(self, chunk: list[Any]) -> None:
        # The sequence goes with the invoices it numbered, as an approval saves it.
        aggregates = list({id(a): a for a in [*chunk, self.sequence]}.values())
        self.events += sum(len(a.pending_events) for a in aggregates)
        self.app.save(*aggregates)

    def _invoice(self, at: datetime) -> Any:
        from events.invoice import Invoice

        n = self.invoices
        outcome = PLAN[n % len(PLAN)]
        owner, approver = self.owners[n % 6], self.approvers[n % 2]
        client = self.clients[self.rng.randrange(CLIENTS)]
        invoice = Invoice.open(invoice_id=uuid4(), actor=owner, at=at, team_id=self.team_id,
                               client_id=client.id, currency="EUR",
                               notes=f"Order {n}, thank you for your business.")
        for line in range(3):
            invoice.add_line(actor=owner, at=at, line_id=uuid4(),
                             description=f"Consulting, work package {line + 1}",
                             quantity=Decimal(self.rng.randint(1, 40)),
                             unit_price=Decimal(self.rng.randint(5000, 20000)) / 100,
                             tax_rate=Decimal((19, 19, 7)[line]), unit="h")
        if outcome != "draft":
            self._progress(invoice, outcome, at, owner, approver, client.email)
        return invoice

    def _progress(self, invoice: Any, outcome: str, at: datetime, owner: Any, approver: Any,
                  to: str) -> None:
        steps = iter(at + timedelta(hours=hours) for hours in range(1, 100, 9))
        invoice.submit(actor=owner, at=next(steps))
        if outcome == "submitted":
            return
        if outcome == "rejected":
            invoice.reject(actor=approver, at=next(steps), reason="Wrong hourly rate.")
            return
        when = next(steps)
        number = self.sequence.issue(invoice_id=invoice.id, actor=approver, at=when)
        invoice.approve(actor=approver, at=when, number=number)
        if outcome == "void":
            invoice.void(actor=approver, at=next(steps), reason="Issued twice.")
        elif outcome != "approved":
            delivery = uuid4()
            invoice.request_delivery(actor=owner, at=next(steps), delivery_id=delivery, to=to)
            invoice.record_delivery(actor=self.system, at=next(steps), delivery_id=delivery)
            if outcome != "sent":
                self._pay(invoice, outcome, steps)

    def _pay(self, invoice: Any, outcome: str, steps: Iterator[datetime]) -> None:
        total = invoice.totals.total
        first = (total / 3).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        amounts = [first] if outcome == "partially_paid" else [first, total - first]
        for amount in amounts:
            when = next(steps)
            invoice.record_payment(actor=self.system, at=when, payment_id=uuid4(),
                                   amount=amount, paid_on=when.date(), method="bank_transfer",
                                   reference=f"SEPA {invoice.id.hex[:12]}")


def empty_read_tables() -> None:
    """Truncate every read table and the tracking rows: the projection starts from zero."""
    from django.db import connection

    from projections.models import READ_MODELS, ProjectionTracking

    tables = [connection.ops.quote_name(m._meta.db_table)
              for m in (*READ_MODELS, ProjectionTracking)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """``function()``'s result and the seconds it took."""
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def profiled(function: Callable[[], Any]) -> Callable[[], Any]:
    """``function`` run under cProfile; prints the top functions by own and total time."""
    def run() -> Any:
        profile = cProfile.Profile()
        result = profile.runcall(function)
        stats = pstats.Stats(profile)
        for order in ("tottime", "cumulative"):
            print(f"\ncProfile of catch_up, top 15 by {order}:")
            stats.sort_stats(order).print_stats(15)
        return result
    return run


def bench_catch_up(app: Any, profile: bool) -> tuple[History, dict[str, float]]:
    """Part 1: a 100,000-event backlog, projected by catch-up and by rebuild."""
    from projections import projector, rebuild

    empty_event_store(app)
    empty_read_tables()
    history = History(app)
    _, generate_s = timed(lambda: history.generate(until=lambda: history.events
                                                   >= BACKLOG_EVENTS))
    catch_up = profiled(projector.catch_up) if profile else projector.catch_up
    result, catch_up_s = timed(catch_up)
    assert result.error is None and result.position == app.max_position(), result
    position, rebuild_s = timed(rebuild.rebuild)
    assert position == app.max_position()
    return history, {"events": history.events, "invoices": history.invoices,
                     "generate_s": generate_s, "catch_up_s": catch_up_s,
                     "rebuild_s": rebuild_s, "batch": projector.BATCH_SIZE,
                     "rebuild_batch": rebuild.REBUILD_BATCH}


# --- part 2: 100,000 invoices in the read tables -----------------------------------------

def fill_read_tables(history: History, figures: dict[str, float]) -> tuple[str, float]:
    """Bring the read tables to PAGE_INVOICES invoices; returns how, and the seconds it took."""
    from django.db import connection

    from projections import projector

    missing = PAGE_INVOICES - history.invoices
    per_invoice = figures["events"] / figures["invoices"]
    estimate = missing * per_invoice * (figures["generate_s"] + figures["catch_up_s"]) \
        / figures["events"]
    if estimate <= EVENT_PATH_BUDGET_SECONDS:
        _, seconds = timed(lambda: (
            history.generate(until=lambda: history.invoices >= PAGE_INVOICES),
            projector.catch_up()))
        how = f"events (generated and caught up; estimate was {estimate:.0f} s)"
    else:
        _, seconds = timed(lambda: copy_invoices(PAGE_INVOICES))
        how = (f"bulk_create copies of the projected invoices (the event path would take "
               f"~{estimate:.0f} s: {missing * per_invoice:,.0f} more events)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would give
    return how, seconds


# Per table: the columns a copy shifts in time, and the column that gets a fresh key.
COPIED = {"line": ((), "id"), "tax": ((), None), "payment": (("paid_on", "recorded_at"), "id"),
          "activity": (("at",), "position")}
INVOICE_SHIFTED = ("created_at", "updated_at", "approved_at", "issue_date", "due_date")


class Copier:
    """Copies of the projected invoices with their lines, taxes, payments and activity:
    new ids, numbers and activity positions, dates moved past the originals.

    Only the tables an invoice page reads are filled; client figures, status counts and
    revenue stay those of the projected invoices.
    """

    def __init__(self) -> None:
        from django.db.models import Max

        from projections.tables import LIVE

        self.tables = LIVE
        self.sources = list(LIVE.invoice.objects.order_by("created_at", "id").values())
        self.children: dict[str, dict[UUID, list[dict[str, Any]]]] = {}
        for name in COPIED:
            model = getattr(LIVE, name)
            groups: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
            for values in model.objects.order_by(model._meta.pk.attname).values():
                groups[values["invoice_id"]].append(values)
            self.children[name] = groups
        self.span = self.sources[-1]["created_at"] - self.sources[0]["created_at"] + STEP
        self.number = LIVE.invoice.objects.exclude(number=None).count()
        self.position = LIVE.activity.objects.aggregate(Max("position"))["position__max"]

    def fresh(self, key: str | None) -> dict[str, Any]:
        """A new value for a table's key column (``None``: the database numbers the row)."""
        if key == "position":
            self.position += 1
            return {"position": self.position}
        return {"id": uuid4() if key else None}

    @staticmethod
    def shifted(values: dict[str, Any], columns: tuple[str, ...], shift: timedelta,
                **changes: Any) -> dict[str, Any]:
        """``values`` with ``changes`` and ``columns`` moved by ``shift``."""
        row = {**values, **changes}
        for column in columns:
            if row[column] is not None:
                row[column] += shift
        return row

    def copy(self, index: int, rows: dict[str, list[Any]]) -> None:
        """Add the ``index``-th copy (counting from 0) of a source invoice to ``rows``."""
        source = self.sources[index % len(self.sources)]
        shift = self.span * (index // len(self.sources) + 1)
        invoice_id, number = uuid4(), None
        if source["number"]:
            self.number += 1
            number = f"INV-{START.year}-{self.number:06d}"
        rows["invoice"].append(self.tables.invoice(**self.shifted(
            source, INVOICE_SHIFTED, shift, id=invoice_id, number=number)))
        for name, (columns, key) in COPIED.items():
            model = getattr(self.tables, name)
            for values in self.children[name][source["id"]]:
                rows[name].append(model(**self.shifted(values, columns, shift,
                                                       invoice_id=invoice_id, **self.fresh(key))))


def copy_invoices(target: int) -> None:
    """Add copies until the read tables hold ``target`` invoices, COPY_BLOCK per transaction."""
    from django.db import transaction

    copier = Copier()
    missing = target - len(copier.sources)
    for block in range(0, missing, COPY_BLOCK):
        rows: dict[str, list[Any]] = defaultdict(list)
        for index in range(block, min(block + COPY_BLOCK, missing)):
            copier.copy(index, rows)
        with transaction.atomic():
            for name, objects in rows.items():
                getattr(copier.tables, name).objects.bulk_create(objects, batch_size=2000)


# --- part 2: the page ------------------------------------------------------------------------

PAGE_QUERY = """
query Page($first: Int, $after: String, $status: [String!]) {
  invoices(first: $first, after: $after, status: $status) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id number status currency notes issueDate dueDate isOverdue createdAt updatedAt version
      subtotal discountTotal taxTotal total amountPaid balanceDue
      client { id name email }
      owner { id username }
      lines { id position description quantity unitPrice taxRate discountPercent unit netAmount }
      taxBreakdown { rate taxableAmount taxAmount }
      payments { id amount paidOn method reference }
      activity { at type actor summary }
    } }
  }
}
"""
STATUS_FILTERS = (["paid"], ["sent", "partially_paid"], ["approved"], ["draft", "rejected"])


def page_variants() -> dict[str, list[dict[str, Any]]]:
    """Variables of the requests, by kind: each kind cycles through its list."""
    from projections.models import InvoiceRow
    from readapi.pagination import _encode  # the server's own cursors, as a client gets them

    ordered = InvoiceRow.objects.order_by("-created_at", "-id").values_list("created_at", "id")
    depths = range(PAGE_INVOICES // 20, PAGE_INVOICES, PAGE_INVOICES * 9 // 100)  # 5 %, ... 95 %
    return {
        "first page (newest)": [{"first": PAGE_SIZE}],
        "status filter": [{"first": PAGE_SIZE, "status": s} for s in STATUS_FILTERS],
        "deep page (after cursor)": [
            {"first": PAGE_SIZE, "after": _encode(list(ordered[depth - 1]))} for depth in depths
        ],
    }


def bench_page() -> list[dict[str, Any]]:
    """Part 2: median and p99 per kind of request, with SQL queries per request."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from nexus.accounts.models import AccessToken, User

    admin, _ = User.objects.get_or_create(username="bench-admin",
                                          defaults={"role": "admin", "email": "a@bench.example"})
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.issue(admin)}")

    def request(variables: dict[str, Any]) -> int:
        """One page; returns the size of the answer in bytes."""
        response = client.post("/graphql/", {"query": PAGE_QUERY, "variables": variables},
                               content_type="application/json")
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        assert len(body["data"]["invoices"]["edges"]) == PAGE_SIZE, variables
        return len(response.content)

    variants = page_variants()
    cycles = {kind: itertools.cycle(values) for kind, values in variants.items()}
    kinds = itertools.islice(itertools.cycle(variants), WARM_UP + MEASURED)
    latencies: dict[str, list[float]] = defaultdict(list)
    for number, kind in enumerate(kinds):
        variables = next(cycles[kind])
        begin = time.perf_counter()
        request(variables)
        if number >= WARM_UP:
            latencies[kind].append(time.perf_counter() - begin)
    results = []
    for kind, values in variants.items():
        queries, sizes = set(), []
        for variables in values[:3]:
            with CaptureQueriesContext(connection) as captured:
                sizes.append(request(variables))
            queries.add(len(captured.captured_queries))
        results.append({"kind": kind, "latencies": latencies[kind], "queries": queries,
                        "bytes": statistics.mean(sizes)})
    results.append({"kind": "all", "queries": set().union(*(r["queries"] for r in results)),
                    "latencies": [x for r in results for x in r["latencies"]], "bytes": 0})
    return results


# --- output ----------------------------------------------------------------------------------

def p99(values: list[float]) -> float:
    """The 99th percentile."""
    return statistics.quantiles(values, n=100)[98]


def report_catch_up(figures: dict[str, float]) -> None:
    """The table of part 1."""
    events = figures["events"]
    print(f"\n1. catch-up over a backlog of {events:,.0f} events "
          f"({figures['invoices']:,.0f} invoices, {CLIENTS} clients, "
          f"{SAVE_CHUNK} aggregates per append)")
    print(f"{'measurement':<52} {'events':>8} {'seconds':>8} {'events/s':>9}")
    for label, key in (("generate the backlog (app.save, 100 aggregates)", "generate_s"),
                       (f"catch_up() from 0 (batch size {figures['batch']:.0f})", "catch_up_s"),
                       (f"rebuild() into shadow tables (batch {figures['rebuild_batch']:.0f})",
                        "rebuild_s")):
        print(f"{label:<52} {events:>8,.0f} {figures[key]:>8.1f} {events / figures[key]:>9,.0f}")


def report_page(how: str, fill_s: float, total: int, results: list[dict[str, Any]]) -> None:
    """The table of part 2."""
    print(f"\n2. GraphQL page of {PAGE_SIZE} invoices with every nested field, "
          f"over {total:,} invoices")
    print(f"read tables filled by {how}: {fill_s:.1f} s")
    print(f"{WARM_UP} warm-up then {MEASURED} measured POST /graphql/ (django.test.Client, "
          f"admin Bearer token), kinds interleaved")
    print(f"{'request kind':<28} {'requests':>8} {'median ms':>10} {'p99 ms':>8} "
          f"{'SQL/request':>12} {'body KB':>8}")
    for row in results:
        queries = "/".join(str(q) for q in sorted(row["queries"]))
        size = f"{row['bytes'] / 1024:.0f}" if row["bytes"] else ""
        print(f"{row['kind']:<28} {len(row['latencies']):>8} "
              f"{statistics.median(row['latencies']) * 1000:>10.1f} "
              f"{p99(row['latencies']) * 1000:>8.1f} {queries:>12} {size:>8}")


def main(argv: list[str] | None = None) -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench read",
                                     description="Read-side benchmark (see bench/read_side.py).")
    parser.add_argument("--profile", action="store_true",
                        help="run catch-up under cProfile and print its top functions")
    options = parser.parse_args(argv)
    url = prepare_environment()
    args = connection_args(url)
    server_version = ensure_database(args)

    import django

    django.setup()
    from django.core.management import call_command

    from events.application import get_application
    from projections.models import InvoiceRow

    call_command("migrate", verbosity=0)
    app = get_application()
    print(f"machine: nproc={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, "
          f"PostgreSQL {server_version}, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"database: {args['host']}:{args['port']}/{args['dbname']}, in-process projection, "
          f"local-memory cache{', catch-up under cProfile' if options.profile else ''}")
    started = time.perf_counter()
    history, figures = bench_catch_up(app, options.profile)
    report_catch_up(figures)
    how, fill_s = fill_read_tables(history, figures)
    results = bench_page()
    report_page(how, fill_s, InvoiceRow.objects.count(), results)
    print(f"\ntotal run time {time.perf_counter() - started:.0f} s, "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    app.close()


if __name__ == "__main__":
    main()
