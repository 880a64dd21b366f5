"""The set of read tables a projector writes: the live ones, or a rebuild's shadow copies."""

from __future__ import annotations

from dataclasses import dataclass, fields

from django.apps.registry import Apps
from django.db import models

from projections import models as read


@dataclass(frozen=True)
class ReadTables:
    """One model class per read table; the projector never names a model directly."""

    invoice: type[read.InvoiceRow]
    line: type[read.LineRow]
    tax: type[read.TaxRow]
    payment: type[read.PaymentRow]
    client: type[read.ClientRow]
    activity: type[read.ActivityRow]
    status_count: type[read.StatusCountRow]
    revenue: type[read.RevenueMonthRow]
    open_balance: type[read.OpenBalanceRow]

    def models(self) -> list[type[models.Model]]:
        """Every table, in a fixed order."""
        return [getattr(self, f.name) for f in fields(self)]


LIVE = ReadTables(
    invoice=read.InvoiceRow, line=read.LineRow, tax=read.TaxRow, payment=read.PaymentRow,
    client=read.ClientRow, activity=read.ActivityRow, status_count=read.StatusCountRow,
    revenue=read.RevenueMonthRow, open_balance=read.OpenBalanceRow,
)


def shadow_tables(suffix: str) -> ReadTables:
    """Copies of the live models on tables named ``<table>__<suffix>``.

    They live in a registry of their own, so they never appear in migrations or clash with
    the live models; the projector writes them exactly like the live ones.
    """
    registry = Apps()
    copies = {}
    for spec in fields(LIVE):
        model = getattr(LIVE, spec.name)
        attrs: dict[str, object] = {"__module__": __name__}
        for field in model._meta.local_fields:
            attrs[field.name] = field.clone()
        attrs["Meta"] = type("Meta", (), {
            "app_label": "projections",
            "db_table": f"{model._meta.db_table}__{suffix}",
            "apps": registry,
        })
        copies[spec.name] = type(f"{model.__name__}_{suffix}", (models.Model,), attrs)
    return ReadTables(**copies)
