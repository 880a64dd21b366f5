"""The yearly invoice-number sequence: consecutive numbers, and no duplicate under a race.

API.md: "INV-<year of approval, UTC>-<6-digit sequence>, one sequence per year, strictly
consecutive: no gaps and no duplicates, also under concurrent approvals." The aggregate gives
consecutive numbers; the event store's optimistic concurrency turns a race into an
IntegrityError on the loser, which the command layer retries from fresh state.
"""

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from eventsourcing.persistence import IntegrityError

from events.numbering import InvoiceNumberSequence, sequence_id
from events.values import Status
from tests.events.builders import MANAGER, NOW, YEAR, memory_app, submitted_invoice


def issue(sequence, invoice_id=None):
    """Issue the next number as a manager would when approving ``invoice_id``."""
    return sequence.issue(invoice_id=invoice_id or uuid4(), actor=MANAGER, at=NOW)


def test_sequence_id_is_the_same_for_a_year_everywhere():
    """Every process must find the same aggregate for a year without looking it up."""
    assert sequence_id(2026) == sequence_id(2026)
    assert sequence_id(2026) != sequence_id(2027)
    assert isinstance(sequence_id(2026), UUID) and sequence_id(2026).version == 5
    # fixed for good: changing it would start every year's numbering again at 000001
    assert sequence_id(2026) == uuid5(
        NAMESPACE_URL, "https://nexus.invalid/invoice-number-sequence/2026"
    )


def test_a_new_sequence_starts_at_zero_under_the_year_id():
    """Starting the year opens the aggregate at the year's fixed id, nothing issued yet."""
    sequence = InvoiceNumberSequence.start(year=2026, actor=MANAGER, at=NOW)
    assert sequence.id == sequence_id(2026)
    assert (sequence.year, sequence.last, sequence.version) == (2026, 0, 1)


def test_numbers_are_consecutive_with_six_digits():
    """INV-2026-000001, 000002, 000003...: one event per number, version in step."""
    sequence = InvoiceNumberSequence.start(year=2026, actor=MANAGER, at=NOW)
    numbers = [issue(sequence) for _ in range(12)]
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 13)]
    assert numbers[:3] == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert sequence.last == 12
    assert sequence.version == 13


def test_each_number_issued_names_its_invoice():
    """The NumberIssued event records which invoice took which number (the audit trail)."""
    sequence = InvoiceNumberSequence.start(year=2026, actor=MANAGER, at=NOW)
    invoice_id = uuid4()
    issue(sequence, invoice_id)
    issued = sequence.collect_events()[-1]
    assert type(issued).__name__ == "NumberIssued"
    assert (issued.sequence, issued.number, issued.invoice_id) == (1, "INV-2026-000001", invoice_id)
    assert issued.actor == MANAGER


def test_years_have_their_own_sequences():
    """The first approval of a new year gets 000001 again, under that year."""
    last_year = InvoiceNumberSequence.start(year=2025, actor=MANAGER, at=NOW)
    for _ in range(5):
        issue(last_year)
    this_year = InvoiceNumberSequence.start(year=2026, actor=MANAGER, at=NOW)
    assert issue(this_year) == "INV-2026-000001"
    assert issue(last_year) == "INV-2025-000006"


def test_the_sequence_continues_after_a_reload():
    """The next number comes from the stored events, not from memory."""
    app = memory_app()
    assert app.get_sequence(YEAR) is None
    sequence = InvoiceNumberSequence.start(year=YEAR, actor=MANAGER, at=NOW)
    issue(sequence)
    issue(sequence)
    app.save(sequence)
    reloaded = app.get_sequence(YEAR)
    assert reloaded == sequence
    assert issue(reloaded) == f"INV-{YEAR}-000003"


def approve_with_sequence(app, invoice):
    """What the approve command does: number from the stored sequence, one atomic save."""
    sequence = app.get_sequence(YEAR)
    number = issue(sequence, invoice.id)
    invoice.approve(actor=MANAGER, at=NOW, number=number)
    app.save(invoice, sequence)
    return number


def test_concurrent_approvals_collide_on_the_sequence_and_the_loser_saves_nothing():
    """Two stale copies of the sequence issue the same number; the second save is refused
    as a whole (the invoice's approval too), and a retry from fresh state gets the next one."""
    app = memory_app()
    app.save(InvoiceNumberSequence.start(year=YEAR, actor=MANAGER, at=NOW))
    first, second = submitted_invoice(), submitted_invoice()
    app.save(first, second)

    # two requests load the sequence at the same moment
    copy_a, copy_b = app.get_sequence(YEAR), app.get_sequence(YEAR)
    number_a = issue(copy_a, first.id)
    number_b = issue(copy_b, second.id)
    assert number_a == number_b == f"INV-{YEAR}-000001"  # the duplicate the store must stop

    first.approve(actor=MANAGER, at=NOW, number=number_a)
    app.save(first, copy_a)
    second.approve(actor=MANAGER, at=NOW, number=number_b)
    with pytest.raises(IntegrityError):
        app.save(second, copy_b)

    # atomic: the losing invoice is still submitted and unnumbered in the store
    stored_second = app.get_invoice(second.id)
    assert stored_second.status is Status.SUBMITTED and stored_second.number is None
    assert app.get_invoice(first.id).number == f"INV-{YEAR}-000001"
    assert app.get_sequence(YEAR).last == 1

    # the command layer's retry: reload both, take the next number
    assert approve_with_sequence(app, stored_second) == f"INV-{YEAR}-000002"
    assert app.get_invoice(second.id).number == f"INV-{YEAR}-000002"
    assert app.get_sequence(YEAR).last == 2


def test_two_first_approvals_of_a_year_cannot_both_start_the_sequence():
    """Both see no sequence and start one: the deterministic id makes the second a conflict."""
    app = memory_app()
    first, second = submitted_invoice(), submitted_invoice()
    app.save(first, second)
    assert app.get_sequence(YEAR) is None  # what both requests see
    start_a = InvoiceNumberSequence.start(year=YEAR, actor=MANAGER, at=NOW)
    start_b = InvoiceNumberSequence.start(year=YEAR, actor=MANAGER, at=NOW)
    first.approve(actor=MANAGER, at=NOW, number=issue(start_a, first.id))
    second.approve(actor=MANAGER, at=NOW, number=issue(start_b, second.id))
    app.save(first, start_a)
    with pytest.raises(IntegrityError):
        app.save(second, start_b)
    assert app.get_invoice(second.id).status is Status.SUBMITTED
    assert app.get_sequence(YEAR).last == 1


def test_many_approvals_in_turn_leave_no_gap():
    """Approving invoices one after another through the store numbers them 1..n."""
    app = memory_app()
    app.save(InvoiceNumberSequence.start(year=YEAR, actor=MANAGER, at=NOW))
    invoices = [submitted_invoice() for _ in range(7)]
    app.save(*invoices)
    numbers = [approve_with_sequence(app, app.get_invoice(invoice.id)) for invoice in invoices]
    assert numbers == [f"INV-{YEAR}-{n:06d}" for n in range(1, 8)]
    assert sorted(app.get_invoice(i.id).number for i in invoices) == numbers
