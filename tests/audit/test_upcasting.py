"""Old event versions read back as the current ones; docs/events.md lists every event class.

The v1 events are written the way a v1 release stored them: the application's mapper makes a
stored event of a current one, then the state loses ``unit`` and ``class_version`` (v1 events
carried no ``class_version`` key) and goes straight into the recorder.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

import events.client
import events.invoice
import events.numbering
from commands import clients, invoices
from events.access import Caller
from events.invoice import Invoice
from projections.models import LineRow
from projections.projector import catch_up
from tests.audit.journey import Http

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
MODULES = {"events/invoice.py": events.invoice, "events/client.py": events.client,
           "events/numbering.py": events.numbering}


def as_v1(store: Any, event: Any) -> StoredEvent:
    """The stored form a v1 release wrote for ``event``: no ``unit``, no ``class_version``."""
    assert store.mapper.compressor is None and store.mapper.cipher is None
    stored = store.mapper.to_stored_event(event)
    state = json.loads(stored.state.decode("utf-8"))
    assert state.pop("class_version") == 2  # the current version writes it
    del state["unit"]
    return replace(stored, state=json.dumps(state).encode("utf-8"))


def stored_state(store: Any, invoice_id: UUID, version: int) -> dict[str, Any]:
    (stored,) = store.recorder.select_events(invoice_id, gt=version - 1, lte=version)
    return json.loads(stored.state.decode("utf-8"))


@pytest.fixture
def old_invoice(store: Any, people: Any) -> dict[str, Any]:
    """v1 created, v2 a v1 ``LineItemAdded``, v3 a v1 ``LineItemChanged``, v4 a v2 add."""
    owner = Caller.from_user(people.owner)
    client = clients.client_register(caller=Caller.from_user(people.manager),
                                      fields={"name": "Old GmbH", "email": "ap@old.example"})
    invoice_id = invoices.invoice_create(caller=owner, client_id=client.id,
                                         currency="EUR").id
    at = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    line_id = uuid4()

    invoice = store.get_invoice(invoice_id)
    invoice.add_line(actor=owner.actor, at=at, line_id=line_id, description="Old line",
                     quantity=Decimal("2"), unit_price=Decimal("12.50"), tax_rate=Decimal("19"))
    (added,) = invoice.collect_events()
    store.recorder.insert_events([as_v1(store, added)])

    invoice = store.get_invoice(invoice_id)  # reads the v1 add back
    invoice.change_line(actor=owner.actor, at=at, line_id=line_id, quantity=Decimal("3"),
                        description="Old line, changed")
    (changed,) = invoice.collect_events()
    store.recorder.insert_events([as_v1(store, changed)])

    new_line = invoices.invoice_add_line(
        invoice_id=invoice_id, caller=owner, expected_version=None,
        fields={"description": "New line", "quantity": Decimal("1"),
                "unit_price": Decimal("10"), "tax_rate": Decimal("19"), "unit": "h"})
    assert new_line.version == 4
    return {"id": invoice_id, "line_id": line_id, "new_line_id": UUID(new_line.extra["line_id"])}


def test_the_old_events_are_stored_in_the_v1_shape(store: Any, old_invoice: Any) -> None:
    for version in (2, 3):
        state = stored_state(store, old_invoice["id"], version)
        assert "unit" not in state and "class_version" not in state, state
        assert state["description"].startswith("Old line")
    current = stored_state(store, old_invoice["id"], 4)
    assert current["class_version"] == 2 and current["unit"] == "h"


def test_v1_line_events_read_back_as_v2_with_an_empty_unit(store: Any,
                                                           old_invoice: Any) -> None:
    stored = list(store.events.get(old_invoice["id"]))

    assert [type(event) for event in stored] == [
        Invoice.InvoiceCreated, Invoice.LineItemAdded, Invoice.LineItemChanged,
        Invoice.LineItemAdded]
    added, changed, new = stored[1], stored[2], stored[3]
    assert type(added).class_version == type(changed).class_version == 2
    assert (added.unit, changed.unit, new.unit) == ("", "", "h")
    assert (added.line_id, added.description, added.quantity, added.unit_price,
            added.tax_rate, added.discount_percent) == (
        old_invoice["line_id"], "Old line", Decimal("2"), Decimal("12.50"), Decimal("19"),
        Decimal("0"))
    assert (changed.line_id, changed.description, changed.quantity) == (
        old_invoice["line_id"], "Old line, changed", Decimal("3"))
    assert [event.originator_version for event in stored] == [1, 2, 3, 4]
    # Read one by one, too (the path of the replay command and the state endpoint).
    assert list(store.events.get(old_invoice["id"], gt=1, lte=2))[0].unit == ""

    invoice = store.get_invoice(old_invoice["id"])
    assert [(line.description, line.unit) for line in invoice.lines] == [
        ("Old line, changed", ""), ("New line", "h")]
    assert invoice.version == 4
    assert str(invoice.totals.total) == "56.53"  # 37.50 + 10 at 19 %: 47.50 + 9.025 -> 9.03


def test_history_state_and_projection_show_the_empty_unit(store: Any, people: Any,
                                                          old_invoice: Any) -> None:
    http = Http(people)
    entries = http.get("owner", f"/api/v1/invoices/{old_invoice['id']}/history/",
                       status=200).json()["results"]

    assert [(e["type"], e["data"].get("unit")) for e in entries] == [
        ("InvoiceCreated", None), ("LineItemAdded", ""), ("LineItemChanged", ""),
        ("LineItemAdded", "h")]
    assert entries[1]["data"]["quantity"] == "2" and entries[1]["data"]["unit_price"] == "12.50"

    at_v2 = http.get("owner", f"/api/v1/invoices/{old_invoice['id']}/state/?version=2",
                     status=200).json()
    assert [(line["description"], line["unit"]) for line in at_v2["lines"]] == [
        ("Old line", "")]

    assert catch_up().error is None
    assert LineRow.objects.get(id=old_invoice["line_id"]).unit == ""
    assert LineRow.objects.get(id=old_invoice["new_line_id"]).unit == "h"


# --- docs/events.md -------------------------------------------------------------------------

def event_classes(module: ModuleType) -> dict[str, type]:
    """The event classes written in the module's aggregates (not the library's own).

    Read from the source, so that the ``Created`` class the library adds to every aggregate
    does not count; an aggregate's base ``Event`` is not an event type either, nor a base
    that events share their fields through (``Invoice.LineEvent``): those are never stored.
    """
    found: dict[str, type] = {}
    for node in ast.parse(inspect.getsource(module)).body:
        aggregate = getattr(module, node.name, None) if isinstance(node, ast.ClassDef) else None
        if not (isinstance(aggregate, type) and issubclass(aggregate, Aggregate)):
            continue
        for inner in node.body:
            if not isinstance(inner, ast.ClassDef):
                continue
            cls = getattr(aggregate, inner.name)
            if issubclass(cls, aggregate.Event) and cls is not aggregate.Event \
                    and not cls.__subclasses__():
                found[cls.__name__] = cls
    return found


def fields_of(cls: type, aggregate_event: type) -> list[str]:
    """The fields an event class declares, itself or through a shared base."""
    names: list[str] = []
    for klass in cls.__mro__:
        if klass is aggregate_event or not issubclass(klass, aggregate_event):
            break
        names += [name for name in inspect.get_annotations(klass) if name not in names]
    return names


def documented() -> dict[str, dict[str, tuple[int, str]]]:
    """``{module path: {event type: (version, fields column)}}`` from docs/events.md."""
    tables: dict[str, dict[str, tuple[int, str]]] = {}
    section = None
    for text in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## .*\(`([\w/]+\.py)`\)", text)
        if heading:
            section = heading.group(1)
            tables[section] = {}
        elif text.startswith("## "):
            section = None
        row = re.match(r"^\|\s*`(\w+)`\s*\|\s*(\d+)\s*\|(.*)\|\s*$", text)
        if row and section is not None:
            tables[section][row.group(1)] = (int(row.group(2)), row.group(3))
    return tables


def test_docs_list_every_event_class_with_its_class_version() -> None:
    tables = documented()
    assert set(tables) == set(MODULES)

    for path, module in MODULES.items():
        classes = event_classes(module)
        assert classes, path
        in_code = {name: getattr(cls, "class_version", 1) for name, cls in classes.items()}
        in_docs = {name: version for name, (version, _) in tables[path].items()}
        assert in_docs == in_code, path
    assert "LineItemAdded" in event_classes(events.invoice)


def test_docs_name_every_field_of_every_event_class() -> None:
    tables = documented()
    for path, module in MODULES.items():
        for name, cls in event_classes(module).items():
            aggregate_event = next(base for base in cls.__mro__ if base.__name__ == "Event")
            own = [field for field in fields_of(cls, aggregate_event) if field != "actor"]
            column = tables[path].get(name, (0, ""))[1]
            missing = [field for field in own if f"`{field}`" not in column]
            assert not missing, (path, name, missing)
