"""DataLoaders: one per key, cached on the request, one query per batch of keys.

Nested lists of a page (lines, taxes, payments, activity, clients, a client's invoices) cost
one query each, whatever the page size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from graphql_sync_dataloaders import SyncDataLoader, SyncFuture

from events.lifecycle import ISSUED
from events.money import exact_arithmetic
from projections.fields import ExactSum
from projections.models import (
    ActivityRow,
    ClientRow,
    InvoiceRow,
    LineRow,
    PaymentRow,
    TaxRow,
)
from readapi.scoping import invoices_visible_to


def then(fn: Callable[..., Any], *futures: SyncFuture) -> SyncFuture:
    """A future of ``fn(*results)`` once every future is done.

    It carries the sources' dispatch callbacks, so the execution context still triggers the
    batched loads: a plain chained future would leave them waiting (the library's known gap).
    """
    derived = SyncFuture()
    callbacks = [f.deferred_callback for f in futures if f.deferred_callback]
    if callbacks:
        derived.deferred_callback = lambda: [callback() for callback in callbacks]

    def settle() -> None:
        if derived.done() or not all(f.done() for f in futures):
            return
        try:
            derived.set_result(fn(*(f.result() for f in futures)))
        except Exception as error:
            derived.set_exception(error)

    for future in futures:
        if not future.done():
            future.add_done_callback(settle)
    settle()
    return derived


def resolved(value: Any) -> SyncFuture:
    """A future that is already done."""
    future = SyncFuture()
    future.set_result(value)
    return future


class Loader:
    """Base: ``Loader.of(context).load(key)``; subclasses write :meth:`batch_load`."""

    context_key: ClassVar[str]

    def __init__(self, context: Any) -> None:
        self.context = context
        self._loader = SyncDataLoader(self._load_batch)

    def _load_batch(self, keys: Sequence[Any]) -> list[Any]:
        """A failing batch fails its fields, each with a located error, not the whole answer."""
        try:
            return self.batch_load(keys)
        except Exception as error:  # noqa: BLE001 - handed to each field, logged there
            return [error] * len(keys)

    @classmethod
    def of(cls, context: Any) -> Loader:
        """The request's instance of this loader."""
        loaders = context.__dict__.setdefault("_nexus_loaders", {})
        if cls.context_key not in loaders:
            loaders[cls.context_key] = cls(context)
        return loaders[cls.context_key]

    def load(self, key: Hashable) -> Any:
        """A future of the value for ``key``."""
        return self._loader.load(key)

    def batch_load(self, keys: Sequence[Any]) -> list[Any]:
        """Values for ``keys``, in the same order."""
        raise NotImplementedError


def _grouped(rows: Iterable[Any], keys: Sequence[Any], attribute: str) -> list[list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attribute)].append(row)
    return [groups.get(key, []) for key in keys]


class LinesByInvoiceIdLoader(Loader):
    """An invoice's lines in order."""

    context_key = "lines_by_invoice_id"

    def batch_load(self, keys: Sequence[UUID]) -> list[list[LineRow]]:
        rows = LineRow.objects.filter(invoice_id__in=keys).order_by("invoice_id", "position")
        return _grouped(rows, keys, "invoice_id")


class TaxByInvoiceIdLoader(Loader):
    """An invoice's tax breakdown, by rate."""

    context_key = "tax_by_invoice_id"

    def batch_load(self, keys: Sequence[UUID]) -> list[list[TaxRow]]:
        return _grouped(TaxRow.objects.filter(invoice_id__in=keys).order_by("rate"), keys,
                        "invoice_id")


class PaymentsByInvoiceIdLoader(Loader):
    """An invoice's payments, in the order they were recorded."""

    context_key = "payments_by_invoice_id"

    def batch_load(self, keys: Sequence[UUID]) -> list[list[PaymentRow]]:
        rows = PaymentRow.objects.filter(invoice_id__in=keys).order_by("recorded_at", "id")
        return _grouped(rows, keys, "invoice_id")


class ActivityByInvoiceIdLoader(Loader):
    """An invoice's events, oldest first."""

    context_key = "activity_by_invoice_id"

    def batch_load(self, keys: Sequence[UUID]) -> list[list[ActivityRow]]:
        rows = ActivityRow.objects.filter(invoice_id__in=keys).order_by("position")
        return _grouped(rows, keys, "invoice_id")


class ClientByIdLoader(Loader):
    """Clients by id."""

    context_key = "client_by_id"

    def batch_load(self, keys: Sequence[UUID]) -> list[ClientRow | None]:
        clients = ClientRow.objects.in_bulk(keys)
        return [clients.get(key) for key in keys]


class ClientFiguresLoader(Loader):
    """Invoice count, total invoiced and balance due of a client, over the caller's scope.

    Key: ``(client_id, summary_currency)``. Sums count only issued invoices in the summary
    currency; the count includes every visible invoice.
    """

    context_key = "client_figures_by_client_id"

    @exact_arithmetic  # Python's default 28 digits would round sums of large amounts
    def batch_load(self, keys: Sequence[tuple[UUID, str | None]]) -> list[dict[str, Any]]:
        rows = (invoices_visible_to(user=self.context.user)
                .filter(client_id__in=[client_id for client_id, _ in keys])
                .values("client_id", "currency", "status")
                .annotate(count=Count("id"), total=ExactSum("total"),
                          due=ExactSum("balance_due")))
        by_client: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_client[row["client_id"]].append(row)
        figures = []
        for client_id, currency in keys:
            entries = by_client.get(client_id, [])
            issued = [e for e in entries if e["status"] in ISSUED and e["currency"] == currency]
            figures.append({
                "count": sum(e["count"] for e in entries),
                "invoiced": sum((e["total"] for e in issued), Decimal(0)),
                "due": sum((e["due"] for e in issued), Decimal(0)),
            })
        return figures


class InvoicesByClientLoader(Loader):
    """A page of a client's visible invoices, newest first. Key: ``(client_id, first, offset)``.

    One query per distinct page shape, with a window function numbering each client's rows.
    """

    context_key = "invoices_by_client_id"

    def batch_load(self, keys: Sequence[tuple[UUID, int, int]]) -> list[list[InvoiceRow]]:
        shapes: dict[tuple[int, int], list[UUID]] = defaultdict(list)
        for client_id, first, offset in keys:
            shapes[(first, offset)].append(client_id)
        pages: dict[tuple[UUID, int, int], list[InvoiceRow]] = defaultdict(list)
        for (first, offset), client_ids in shapes.items():
            rows = (invoices_visible_to(user=self.context.user)
                    .filter(client_id__in=client_ids)
                    .annotate(row_number=Window(
                        RowNumber(), partition_by=[F("client_id")],
                        order_by=[F("created_at").desc(), F("id").desc()]))
                    .filter(row_number__gt=offset, row_number__lte=offset + first + 1)
                    .order_by("client_id", "row_number"))
            for row in rows:
                pages[(row.client_id, first, offset)].append(row)
        return [pages.get(key, []) for key in keys]
