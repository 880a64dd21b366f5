"""The event-sourced application: what goes into the store comes back the same.

Events are stored as JSON, so every Python type they carry (dates, Decimals with their
places, actors, the free-form ``changes`` dict) needs a transcoding that round-trips exactly.
Snapshots store a whole aggregate's state, which holds more types still (lines, payments, the
status enum, UUID-keyed dicts); an invoice's 100th event takes one.
"""

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from events.application import NexusApplication
from events.client import Client
from events.errors import ClientNotFound, InvoiceNotFound
from events.invoice import Invoice
from events.numbering import InvoiceNumberSequence
from events.values import Actor, LineItem, Payment, Status
from tests.events.builders import (
    ADMIN,
    MANAGER,
    NOW,
    OWNER,
    TODAY,
    YEAR,
    add_line,
    memory_app,
    open_draft,
    pay,
    submitted_invoice,
)

D = Decimal


@pytest.fixture
def app():
    """A fresh application on an in-memory SQLite event store."""
    return memory_app()


def round_trip(app, value):
    """Encode ``value`` as the store does, then decode it."""
    transcoder = app.mapper.transcoder
    return transcoder.decode(transcoder.encode(value))


def stored_state(app, aggregate_id):
    """The JSON of each stored event of an aggregate, as the database holds it."""
    return [json.loads(record.state) for record in app.recorder.select_events(aggregate_id)]


def register_client(app=None, **fields):
    """A registered client, saved when ``app`` is given."""
    client = Client.register(
        client_id=uuid4(),
        actor=MANAGER,
        at=NOW,
        name=fields.pop("name", "Acme GmbH"),
        email=fields.pop("email", "billing@acme.test"),
        **fields,
    )
    if app is not None:
        app.save(client)
    return client


# --- transcoding ----------------------------------------------------------------------------


def test_dates_travel_as_iso_strings_and_come_back_as_dates(app):
    """A date is neither a datetime nor a string after the round trip."""
    encoded = app.mapper.transcoder.encode(date(2026, 3, 2))
    assert json.loads(encoded) == {"_type_": "date_iso", "_data_": "2026-03-02"}
    decoded = round_trip(app, date(2026, 3, 2))
    assert decoded == date(2026, 3, 2) and type(decoded) is date


def test_datetimes_keep_their_time_zone(app):
    """Event timestamps are timezone-aware UTC and stay so."""
    moment = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
    assert round_trip(app, moment) == moment
    assert round_trip(app, moment).tzinfo is not None


@pytest.mark.parametrize("text", ["190.40", "6364", "0.000", "12.5000", "1E+2", "-0.01"])
def test_decimals_keep_their_value_and_their_places(app, text):
    """'190.40' must not come back as 190.4: the places are part of the money's meaning."""
    decoded = round_trip(app, D(text))
    assert isinstance(decoded, Decimal)
    assert str(decoded) == text


def test_actors_round_trip_with_a_uuid_id(app):
    """The actor value object comes back equal, with a real UUID."""
    actor = Actor(id=uuid4(), username="olivia")
    decoded = round_trip(app, actor)
    assert decoded == actor
    assert isinstance(decoded, Actor) and isinstance(decoded.id, UUID)


def test_lines_and_payments_round_trip(app):
    """Invoice snapshots hold these value objects."""
    line = LineItem(uuid4(), "Audit", D("1.5"), D("80.00"), D("19"), D("2.5"))
    payment = Payment(uuid4(), D("10.00"), date(2026, 3, 1), "card", "ref 1")
    assert round_trip(app, [line, payment]) == [line, payment]


def test_details_changes_are_stored_with_their_types(app):
    """``InvoiceDetailsChanged.changes`` mixes dates, Decimals, None and text in one dict;
    every value must come back with its type, or projections would read strings."""
    invoice = open_draft()
    invoice.change_details(
        actor=OWNER,
        at=NOW,
        issue_date=date(2026, 3, 10),
        due_date=date(2026, 4, 30),
        notes="Thanks!",
        discount_percent=D("7.50"),
    )
    live = invoice.pending_events[-1]
    app.save(invoice)
    (stored,) = app.events.get(invoice.id, gt=1)
    assert stored.changes == live.changes == {
        "issue_date": date(2026, 3, 10),
        "due_date": date(2026, 4, 30),
        "payment_terms_days": None,
        "notes": "Thanks!",
        "discount_percent": D("7.50"),
    }
    assert type(stored.changes["due_date"]) is date
    assert str(stored.changes["discount_percent"]) == "7.50"
    raw = stored_state(app, invoice.id)[-1]["changes"]
    assert raw["discount_percent"] == {"_type_": "decimal_str", "_data_": "7.50"}
    assert raw["payment_terms_days"] is None


def every_kind_of_invoice_event(app):
    """An invoice that went through each of the 13 event types, saved; with its events."""
    invoice = open_draft(notes="first")
    line_id = add_line(invoice, quantity="2", unit_price="50.00")
    add_line(invoice, unit_price="19.00", tax_rate="7")
    invoice.change_line(actor=OWNER, at=NOW, line_id=line_id, unit_price=D("60.00"))
    invoice.remove_line(actor=OWNER, at=NOW, line_id=line_id)
    invoice.change_details(actor=OWNER, at=NOW, payment_terms_days=14)
    invoice.submit(actor=OWNER, at=NOW)
    invoice.reject(actor=MANAGER, at=NOW, reason="Rate")
    invoice.submit(actor=OWNER, at=NOW)
    invoice.approve(actor=MANAGER, at=NOW, number=f"INV-{YEAR}-000001", comment="fine")
    failed, sent = uuid4(), uuid4()
    invoice.request_delivery(actor=OWNER, at=NOW, delivery_id=failed, to="a@acme.test")
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=failed, error="timeout")
    invoice.request_delivery(actor=OWNER, at=NOW, delivery_id=sent, to="b@acme.test")
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=sent)
    pay(invoice, "5.00")
    events = list(invoice.pending_events)
    app.save(invoice)
    voided = submitted_invoice()
    voided.void(actor=ADMIN, at=NOW, reason="Duplicate")
    events += list(voided.pending_events)
    app.save(voided)
    return invoice, events


def test_every_invoice_event_comes_back_equal(app):
    """All event types, with all their fields, survive the store unchanged."""
    invoice, events = every_kind_of_invoice_event(app)
    stored = list(app.events.get(invoice.id))
    stored += list(app.events.get(events[-1].originator_id))
    assert stored == events
    assert {type(event).__name__ for event in stored} == {
        "InvoiceCreated",
        "LineItemAdded",
        "LineItemChanged",
        "LineItemRemoved",
        "InvoiceDetailsChanged",
        "InvoiceSubmitted",
        "InvoiceApproved",
        "InvoiceRejected",
        "InvoiceDeliveryRequested",
        "InvoiceSent",
        "InvoiceDeliveryFailed",
        "PaymentRecorded",
        "InvoiceVoided",
    }
    assert app.get_invoice(invoice.id) == invoice


def test_invoice_events_are_the_audit_trail_oldest_first(app):
    """``invoice_events`` lists versions 1..n in order, and ``gt`` skips what a reader has."""
    invoice, _ = every_kind_of_invoice_event(app)
    versions = [event.originator_version for event in app.events.get(invoice.id)]
    assert versions == list(range(1, invoice.version + 1))
    later = [event.originator_version for event in app.events.get(invoice.id, gt=10)]
    assert later == list(range(11, invoice.version + 1))


def test_positions_grow_with_every_save(app):
    """``save_aggregates`` answers the global position of its last event (read-your-writes)."""
    assert app.max_position() == 0
    invoice = open_draft()
    add_line(invoice)
    assert app.save_aggregates(invoice) == 2 == app.max_position()
    client = register_client()
    assert app.save_aggregates(client) == 3
    assert app.save_aggregates(invoice) == 3  # nothing pending: the current position


# --- loading --------------------------------------------------------------------------------


def test_a_missing_invoice_or_client_is_not_found(app):
    """Unknown ids raise the domain's not-found errors (404), not the library's."""
    with pytest.raises(InvoiceNotFound) as missing:
        app.get_invoice(uuid4())
    assert missing.value.code == "not_found"
    with pytest.raises(ClientNotFound):
        app.get_client(uuid4())
    assert app.get_sequence(YEAR) is None


def test_an_id_of_the_other_kind_is_not_found_either(app):
    """A client's id is no invoice, and an invoice's id no client."""
    client = register_client(app)
    invoice = open_draft()
    app.save(invoice)
    with pytest.raises(InvoiceNotFound):
        app.get_invoice(client.id)
    with pytest.raises(ClientNotFound):
        app.get_client(invoice.id)
    assert app.get_client(client.id) == client


def test_a_known_client_is_required_without_reading_the_store(app):
    """Once seen, a client exists for good (none is ever deleted): creating an invoice for it
    with an explicit currency costs no store read. An unknown id is still not found, and an
    invoice's id is no client even after it was loaded as an invoice."""
    client = register_client(app)
    reads = []
    real_select = app.recorder.select_events

    def counting_select(*args, **kwargs):
        reads.append(args[0] if args else kwargs.get("originator_id"))
        return real_select(*args, **kwargs)

    app.recorder.select_events = counting_select
    app.require_client(client.id)  # first time: loaded from the store
    first = len(reads)
    assert first >= 1
    app.require_client(client.id)
    app.require_client(client.id)
    assert len(reads) == first
    with pytest.raises(ClientNotFound):
        app.require_client(uuid4())
    invoice = open_draft()
    app.save(invoice)
    app.get_invoice(invoice.id)
    with pytest.raises(ClientNotFound):
        app.require_client(invoice.id)


def test_an_older_version_of_an_invoice_can_be_loaded(app):
    """``version=N`` rebuilds the invoice as it stood after its N-th event."""
    invoice = open_draft()
    app.save(invoice)
    add_line(invoice, unit_price="10.00")
    app.save(invoice)
    add_line(invoice, unit_price="20.00")
    invoice.submit(actor=OWNER, at=NOW)
    app.save(invoice)

    first = app.get_invoice(invoice.id, version=1)
    assert (first.version, first.status, first.lines) == (1, Status.DRAFT, [])
    second = app.get_invoice(invoice.id, version=2)
    assert [line.unit_price for line in second.lines] == [D("10.00")]
    assert second.totals.total == D("11.90")
    assert app.get_invoice(invoice.id, version=4) == invoice
    assert app.get_invoice(invoice.id).status is Status.SUBMITTED


# --- snapshots ------------------------------------------------------------------------------


def test_snapshots_are_configured_for_every_aggregate():
    """Long-lived aggregates get a snapshot every 100 events."""
    assert NexusApplication.snapshotting_intervals == {
        Invoice: 100,
        InvoiceNumberSequence: 100,
        Client: 100,
    }


def busy_invoice(app, events):
    """Save, one command at a time, an invoice with lines, payments and a pending delivery,
    until it has ``events`` events; return it and a copy of it at version 100."""
    invoice = open_draft(currency="KWD", discount_percent=D("2.5"))
    app.save(invoice)
    line_ids = [add_line(invoice, unit_price=f"{n}.125") for n in range(1, 61)]
    app.save(invoice)
    for line_id in line_ids[:5]:
        invoice.remove_line(actor=OWNER, at=NOW, line_id=line_id)
    for line_id in line_ids[5:10]:
        invoice.change_line(actor=OWNER, at=NOW, line_id=line_id, quantity=D("3"))
    invoice.change_details(actor=OWNER, at=NOW, notes="long story")
    invoice.submit(actor=OWNER, at=NOW)
    invoice.approve(actor=MANAGER, at=NOW, number=f"INV-{YEAR}-000001")
    app.save(invoice)
    invoice.request_delivery(actor=OWNER, at=NOW, delivery_id=uuid4(), to="a@acme.test")
    at_100 = None
    while invoice.version < events:
        pay(invoice, "0.001", paid_on=TODAY)
        app.save(invoice)
        if invoice.version == 100:
            at_100 = copy.deepcopy(invoice)
    return invoice, at_100


def test_an_invoice_is_snapshotted_at_its_100th_event_and_loads_equal(app):
    """The snapshot holds lines, payments, the status and pending deliveries; loading from it
    (and from the events after it) gives exactly the live invoice."""
    invoice, at_100 = busy_invoice(app, events=112)
    snapshots = list(app.snapshots.get(invoice.id))
    assert [snapshot.originator_version for snapshot in snapshots] == [100]
    from_snapshot = snapshots[0].mutate(None)
    assert from_snapshot == at_100
    assert from_snapshot.status is Status.PARTIALLY_PAID
    assert all(isinstance(key, UUID) for key in from_snapshot.pending_deliveries)
    assert all(isinstance(line, LineItem) for line in from_snapshot.lines)

    loaded = app.get_invoice(invoice.id)
    assert loaded == invoice
    assert loaded.version == 112
    assert loaded.totals == invoice.totals
    assert app.get_invoice(invoice.id, version=100) == at_100
    assert app.get_invoice(invoice.id, version=99).version == 99


def test_an_invoice_loaded_from_a_snapshot_keeps_following_the_rules(app):
    """After a snapshot the status must still be a ``Status`` and delivery ids UUIDs:
    an ``approved`` invoice still becomes ``sent`` when its pending delivery succeeds."""
    invoice = open_draft()
    for n in range(96):
        add_line(invoice, unit_price=f"{n + 1}.00")
    invoice.submit(actor=OWNER, at=NOW)
    invoice.approve(actor=MANAGER, at=NOW, number=f"INV-{YEAR}-000001")
    delivery_id = uuid4()
    invoice.request_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id, to="a@acme.test")
    assert invoice.version == 100
    app.save(invoice)
    assert len(list(app.snapshots.get(invoice.id))) == 1

    loaded = app.get_invoice(invoice.id)
    assert loaded.status is Status.APPROVED
    loaded.record_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id)
    assert loaded.status is Status.SENT
    pay(loaded, "1.00")
    assert loaded.status is Status.PARTIALLY_PAID
    app.save(loaded)
    assert app.get_invoice(invoice.id) == loaded


def test_the_number_sequence_is_snapshotted_and_continues(app):
    """A busy year's sequence: snapshot at event 100, next number 000100."""
    sequence = InvoiceNumberSequence.start(year=YEAR, actor=MANAGER, at=NOW)
    for _ in range(99):
        sequence.issue(invoice_id=uuid4(), actor=MANAGER, at=NOW)
    app.save(sequence)
    assert [s.originator_version for s in app.snapshots.get(sequence.id)] == [100]
    loaded = app.get_sequence(YEAR)
    assert loaded == sequence
    assert loaded.issue(invoice_id=uuid4(), actor=MANAGER, at=NOW) == f"INV-{YEAR}-000100"


def test_a_client_is_snapshotted_and_loads_equal(app):
    """A client changed 99 times: snapshot at 100, loaded equal."""
    client = register_client(default_currency="EUR")
    for n in range(99):
        client.change(actor=MANAGER, at=NOW, address=f"Street {n}")
    app.save(client)
    assert [s.originator_version for s in app.snapshots.get(client.id)] == [100]
    assert app.get_client(client.id) == client
    assert app.get_client(client.id).address == "Street 98"
