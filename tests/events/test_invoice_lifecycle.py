"""The invoice's lifecycle rules (API.md, "Commands"): each command, each refusal and its code.

The command layer turns these errors into HTTP answers (409 with ``code``, 400 with the field),
so the exact class and ``code`` of every refusal is part of the contract tested here. A
stateful test at the end drives random command sequences against a model of the rules.
"""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from events.calculations import calculate
from events.errors import (
    DomainError,
    EmptyInvoice,
    InvalidTransition,
    InvalidValue,
    LineNotFound,
    NotFound,
    Overpayment,
)
from events.invoice import FourEyesViolation
from events.money import UnknownCurrency, minor_units, quantum
from events.numbering import InvoiceNumberSequence
from events.values import LineItem, Status
from tests.events.builders import (
    ADMIN,
    CLIENT_ID,
    MANAGER,
    NOW,
    OWNER,
    TODAY,
    YEAR,
    add_line,
    approved_invoice,
    days,
    memory_app,
    open_draft,
    pay,
    sent_invoice,
    submitted_invoice,
    terms,
)

D = Decimal


def event_types(invoice):
    """Names of the events still pending on ``invoice``, oldest first."""
    return [type(event).__name__ for event in invoice.collect_events()]


def refused(invoice, error, call):
    """Run ``call``; check it raised ``error`` and left the invoice without a new event."""
    version = invoice.version
    pending = len(invoice.pending_events)
    with pytest.raises(error) as raised:
        call()
    assert invoice.version == version
    assert len(invoice.pending_events) == pending
    return raised.value


def test_error_codes_are_the_ones_api_md_promises():
    """The 409 ``code`` values clients switch on."""
    assert InvalidTransition.code == "invalid_transition"
    assert EmptyInvoice.code == "empty_invoice"
    assert Overpayment.code == "overpayment"
    assert FourEyesViolation.code == "four_eyes"
    assert issubclass(FourEyesViolation, InvalidTransition)
    assert InvalidValue("due_date", "x").field == "due_date"
    assert issubclass(LineNotFound, NotFound) and LineNotFound.code == "not_found"
    assert all(
        issubclass(error, DomainError)
        for error in (InvalidTransition, EmptyInvoice, Overpayment, InvalidValue, NotFound)
    )


# --- opening and due dates ----------------------------------------------------------------


def test_a_new_invoice_is_an_owned_draft_due_in_30_days():
    """Default terms are 30 days from the issue date, which defaults to the day of ``at``."""
    invoice = open_draft()
    assert invoice.status is Status.DRAFT
    assert invoice.owner == OWNER and invoice.created_by == OWNER
    assert invoice.client_id == CLIENT_ID and invoice.currency == "EUR"
    assert invoice.issue_date == TODAY
    assert invoice.payment_terms_days == 30
    assert invoice.due_date == TODAY + days(30) == date(2026, 4, 1)
    assert invoice.number is None and invoice.lines == [] and invoice.payments == []
    assert invoice.version == 1
    assert event_types(invoice) == ["InvoiceCreated"]


def test_explicit_due_date_is_kept_and_clears_the_terms():
    """A due date given outright wins; the invoice then has no payment terms."""
    invoice = open_draft(issue_date=date(2026, 1, 10), due_date=date(2026, 2, 28))
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 1, 10), date(2026, 2, 28))
    assert invoice.payment_terms_days is None


def test_custom_terms_set_the_due_date():
    """Payment terms of 14 days from a past issue date (both may lie in the past)."""
    invoice = open_draft(issue_date=date(2025, 12, 20), payment_terms_days=14)
    assert invoice.due_date == date(2026, 1, 3)
    assert invoice.payment_terms_days == 14


def test_due_date_may_be_the_issue_date():
    """'Not before the issue date' allows the same day, and zero-day terms."""
    assert open_draft(issue_date=TODAY, due_date=TODAY).due_date == TODAY
    assert open_draft(payment_terms_days=0).due_date == TODAY


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"due_date": date(2026, 4, 1), "payment_terms_days": 30}, "due_date"),
        ({"issue_date": date(2026, 3, 2), "due_date": date(2026, 3, 1)}, "due_date"),
        ({"payment_terms_days": -1}, "payment_terms_days"),
    ],
    ids=["both-due-date-and-terms", "due-before-issue", "negative-terms"],
)
def test_opening_refuses_inconsistent_due_dates(details, field):
    """Each inconsistent combination is an InvalidValue naming the field (a 400)."""
    with pytest.raises(InvalidValue) as raised:
        open_draft(**details)
    assert raised.value.field == field
    assert raised.value.code == "invalid"


def test_opening_refuses_an_unknown_currency():
    """A currency without a known minor unit would round money wrongly."""
    with pytest.raises(UnknownCurrency):
        open_draft(currency="XYZ")


# --- changing details ---------------------------------------------------------------------


def test_terms_follow_a_changed_issue_date():
    """With payment terms, moving the issue date moves the due date with it."""
    invoice = open_draft(payment_terms_days=30)
    invoice.collect_events()
    assert invoice.change_details(actor=OWNER, at=NOW, issue_date=date(2026, 3, 10)) is True
    assert invoice.due_date == date(2026, 4, 9)
    (changed,) = invoice.collect_events()
    assert changed.changes == {"issue_date": date(2026, 3, 10), "due_date": date(2026, 4, 9)}


def test_an_explicit_due_date_stays_when_the_issue_date_moves():
    """Without terms the due date is fixed; the issue date may move up to it, not past it."""
    invoice = open_draft(due_date=date(2026, 3, 31))
    assert invoice.change_details(actor=OWNER, at=NOW, issue_date=date(2026, 3, 31))
    assert invoice.due_date == date(2026, 3, 31)
    error = refused(
        invoice,
        InvalidValue,
        lambda: invoice.change_details(actor=OWNER, at=NOW, issue_date=date(2026, 4, 1)),
    )
    assert error.field == "due_date"
    assert invoice.issue_date == date(2026, 3, 31)


def test_switching_between_due_date_and_terms():
    """Giving a due date drops the terms; giving terms computes the due date again."""
    invoice = open_draft()
    invoice.change_details(actor=OWNER, at=NOW, due_date=date(2026, 5, 1))
    assert (invoice.due_date, invoice.payment_terms_days) == (date(2026, 5, 1), None)
    invoice.change_details(actor=OWNER, at=NOW, payment_terms_days=10)
    assert (invoice.due_date, invoice.payment_terms_days) == (date(2026, 3, 12), 10)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_date": date(2026, 5, 1), "payment_terms_days": 10}, "due_date"),
        ({"due_date": date(2026, 3, 1)}, "due_date"),
        ({"payment_terms_days": -5}, "payment_terms_days"),
        ({"status": "paid"}, "status"),
        ({"number": "INV-2026-999999"}, "number"),
    ],
    ids=["both", "due-before-issue", "negative-terms", "status-read-only", "number-read-only"],
)
def test_change_details_refuses_bad_or_read_only_fields(changes, field):
    """Read-only fields never reach an event; inconsistent dates are refused by field."""
    invoice = open_draft()
    error = refused(invoice, InvalidValue, lambda: invoice.change_details(
        actor=OWNER, at=NOW, **changes
    ))
    assert error.field == field
    assert invoice.status is Status.DRAFT


def test_change_details_records_only_what_changes():
    """The event's ``changes`` holds the new values of the changed fields, nothing else."""
    invoice = open_draft(notes="old")
    invoice.collect_events()
    assert invoice.change_details(
        actor=OWNER, at=NOW, notes="new", discount_percent=D("5"), payment_terms_days=30
    )
    (changed,) = invoice.collect_events()
    assert changed.changes == {"notes": "new", "discount_percent": D("5")}
    assert changed.actor == OWNER


def test_change_details_returns_false_and_records_nothing_when_nothing_changes():
    """Repeating the current values is not an event (a PATCH with the same body)."""
    invoice = open_draft(notes="same", discount_percent=D("2.5"))
    invoice.collect_events()
    assert invoice.change_details(actor=OWNER, at=NOW) is False
    assert (
        invoice.change_details(
            actor=OWNER,
            at=NOW,
            notes="same",
            discount_percent=D("2.50"),
            issue_date=TODAY,
            payment_terms_days=30,
        )
        is False
    )
    assert invoice.version == 1
    assert invoice.collect_events() == []


def test_the_invoice_discount_changes_the_totals():
    """``discount_percent`` is an invoice detail and feeds the calculation."""
    invoice = open_draft()
    add_line(invoice, unit_price="200.00", tax_rate="19")
    invoice.change_details(actor=OWNER, at=NOW, discount_percent=D("10"))
    # 200.00 - 20.00 = 180.00; 19 % = 34.20; total 214.20
    assert invoice.totals.invoice_discount == D("20.00")
    assert invoice.totals.total == D("214.20")
    assert invoice.balance_due == D("214.20")


# --- lines ----------------------------------------------------------------------------------


def test_lines_are_added_changed_and_removed_in_order():
    """Lines keep their order; a change keeps the fields it does not name."""
    invoice = open_draft()
    first = add_line(invoice, description="A", unit_price="10.00")
    second = add_line(invoice, description="B", unit_price="20.00", discount_percent="5")
    invoice.change_line(actor=OWNER, at=NOW, line_id=first, quantity=D("3"))
    assert invoice.lines[0] == LineItem(
        line_id=first,
        description="A",
        quantity=D("3"),
        unit_price=D("10.00"),
        tax_rate=D("19"),
        discount_percent=D("0"),
    )
    assert [line.line_id for line in invoice.lines] == [first, second]
    invoice.remove_line(actor=OWNER, at=NOW, line_id=first)
    assert [line.description for line in invoice.lines] == ["B"]
    assert invoice.version == 5
    assert event_types(invoice) == [
        "InvoiceCreated",
        "LineItemAdded",
        "LineItemAdded",
        "LineItemChanged",
        "LineItemRemoved",
    ]


def test_a_line_id_cannot_be_added_twice():
    """Client-chosen line ids must be unique on the invoice."""
    invoice = open_draft()
    line_id = add_line(invoice)
    error = refused(
        invoice,
        InvalidValue,
        lambda: invoice.add_line(
            actor=OWNER,
            at=NOW,
            line_id=line_id,
            description="again",
            quantity=D("1"),
            unit_price=D("1.00"),
            tax_rate=D("0"),
        ),
    )
    assert error.field == "line_id"
    assert len(invoice.lines) == 1


def test_changing_or_removing_a_missing_line_is_line_not_found():
    """An unknown line id is a 404, not a crash."""
    invoice = open_draft()
    add_line(invoice)
    missing = uuid4()
    refused(invoice, LineNotFound, lambda: invoice.change_line(
        actor=OWNER, at=NOW, line_id=missing, quantity=D("2")
    ))
    refused(invoice, LineNotFound, lambda: invoice.remove_line(
        actor=OWNER, at=NOW, line_id=missing
    ))


def test_a_rejected_invoice_can_be_edited_and_submitted_again():
    """``submitted -> rejected -> submitted``, with edits in between."""
    invoice = submitted_invoice()
    invoice.reject(actor=MANAGER, at=NOW, reason="Wrong client address")
    assert invoice.status is Status.REJECTED
    line_id = add_line(invoice, unit_price="1.00")
    invoice.change_line(actor=OWNER, at=NOW, line_id=line_id, unit_price=D("2.00"))
    invoice.change_details(actor=OWNER, at=NOW, notes="fixed")
    invoice.submit(actor=OWNER, at=NOW)
    assert invoice.status is Status.SUBMITTED


EDITS = {
    "add_line": lambda invoice: add_line(invoice),
    "change_line": lambda invoice: invoice.change_line(
        actor=OWNER, at=NOW, line_id=invoice.lines[0].line_id, quantity=D("2")
    ),
    "remove_line": lambda invoice: invoice.remove_line(
        actor=OWNER, at=NOW, line_id=invoice.lines[0].line_id
    ),
    "change_details": lambda invoice: invoice.change_details(actor=OWNER, at=NOW, notes="late"),
    "submit": lambda invoice: invoice.submit(actor=OWNER, at=NOW),
}


def voided_invoice():
    """A submitted invoice an admin voided."""
    invoice = submitted_invoice()
    invoice.void(actor=ADMIN, at=NOW, reason="Duplicate")
    return invoice


def partially_paid_invoice():
    """Approved, then 19.00 of 119.00 paid."""
    invoice = approved_invoice()
    pay(invoice, "19.00")
    return invoice


def paid_invoice():
    """Approved, then paid in full."""
    invoice = approved_invoice()
    pay(invoice, "119.00")
    return invoice


STATES_AFTER_SUBMIT = {
    "submitted": submitted_invoice,
    "approved": approved_invoice,
    "sent": sent_invoice,
    "partially_paid": partially_paid_invoice,
    "paid": paid_invoice,
    "void": voided_invoice,
}


@pytest.mark.parametrize("state", STATES_AFTER_SUBMIT)
@pytest.mark.parametrize("edit", EDITS)
def test_no_edit_or_submit_outside_draft_and_rejected(state, edit):
    """Lines and fields change only in draft or rejected: everything else is a 409."""
    invoice = STATES_AFTER_SUBMIT[state]()
    before = list(invoice.lines)
    error = refused(invoice, InvalidTransition, lambda: EDITS[edit](invoice))
    assert error.code == "invalid_transition"
    assert invoice.status.value == state
    assert invoice.lines == before


# --- submit, approve, reject ------------------------------------------------------------------


def test_submitting_needs_a_line():
    """An empty draft is refused with ``empty_invoice``; after a line it goes through."""
    invoice = open_draft()
    error = refused(invoice, EmptyInvoice, lambda: invoice.submit(actor=OWNER, at=NOW))
    assert error.code == "empty_invoice"
    add_line(invoice)
    invoice.submit(actor=OWNER, at=NOW)
    assert invoice.status is Status.SUBMITTED


def test_removing_the_last_line_makes_the_invoice_unsubmittable_again():
    """The line rule is checked at submit time, not when the line was added."""
    invoice = open_draft()
    line_id = add_line(invoice)
    invoice.remove_line(actor=OWNER, at=NOW, line_id=line_id)
    refused(invoice, EmptyInvoice, lambda: invoice.submit(actor=OWNER, at=NOW))


def test_approval_sets_the_number_and_when():
    """A manager other than the owner approves; the invoice takes the sequence's number."""
    invoice = submitted_invoice()
    invoice.approve(actor=MANAGER, at=NOW, number="INV-2026-000007", comment="ok")
    assert invoice.status is Status.APPROVED
    assert invoice.number == "INV-2026-000007"
    assert invoice.approved_at == NOW
    approved = invoice.collect_events()[-1]
    assert (approved.actor, approved.comment) == (MANAGER, "ok")


def test_nobody_approves_or_rejects_their_own_invoice():
    """Four eyes: the owner is refused with ``four_eyes`` even if they are a manager."""
    invoice = submitted_invoice()
    error = refused(invoice, FourEyesViolation, lambda: invoice.approve(
        actor=OWNER, at=NOW, number="INV-2026-000001"
    ))
    assert error.code == "four_eyes"
    error = refused(invoice, FourEyesViolation, lambda: invoice.reject(
        actor=OWNER, at=NOW, reason="mine"
    ))
    assert error.code == "four_eyes"
    assert invoice.status is Status.SUBMITTED and invoice.number is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejection_needs_a_reason(reason):
    """A blank reason is an InvalidValue on ``reason``."""
    invoice = submitted_invoice()
    error = refused(invoice, InvalidValue, lambda: invoice.reject(
        actor=MANAGER, at=NOW, reason=reason
    ))
    assert error.field == "reason"


@pytest.mark.parametrize(
    "make", [open_draft, approved_invoice, sent_invoice, paid_invoice, voided_invoice]
)
def test_only_a_submitted_invoice_is_approved_or_rejected(make):
    """Approving a draft or approving twice is an invalid transition."""
    invoice = make()
    refused(invoice, InvalidTransition, lambda: invoice.approve(
        actor=MANAGER, at=NOW, number="INV-2026-000099"
    ))
    refused(invoice, InvalidTransition, lambda: invoice.reject(
        actor=MANAGER, at=NOW, reason="no"
    ))
    assert invoice.number in (None, "INV-2026-000001")


# --- delivery -------------------------------------------------------------------------------


def request(invoice, to="billing@acme.test"):
    """Ask for delivery and return the delivery id."""
    delivery_id = uuid4()
    invoice.request_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id, to=to)
    return delivery_id


@pytest.mark.parametrize("make", [open_draft, submitted_invoice, voided_invoice])
def test_sending_before_approval_or_after_void_is_refused(make):
    """``send`` is allowed from approved on, never for a draft, submitted or void invoice."""
    invoice = make()
    error = refused(invoice, InvalidTransition, lambda: request(invoice))
    assert error.code == "invalid_transition"
    assert invoice.pending_deliveries == {}


def test_a_delivery_sent_marks_the_invoice_sent():
    """Requested, then delivered: status ``sent`` and nothing pending."""
    invoice = approved_invoice()
    delivery_id = request(invoice)
    assert invoice.status is Status.APPROVED  # 202: queued, not yet sent
    assert invoice.pending_deliveries == {delivery_id: "billing@acme.test"}
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id)
    assert invoice.status is Status.SENT
    assert invoice.pending_deliveries == {}
    assert event_types(invoice)[-2:] == ["InvoiceDeliveryRequested", "InvoiceSent"]


def test_a_failed_delivery_leaves_the_invoice_approved():
    """The failure is recorded (with its error) and the status stays as it was."""
    invoice = approved_invoice()
    delivery_id = request(invoice)
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id, error="550 no such user")
    assert invoice.status is Status.APPROVED
    assert invoice.pending_deliveries == {}
    failed = invoice.collect_events()[-1]
    assert type(failed).__name__ == "InvoiceDeliveryFailed"
    assert (failed.to, failed.error) == ("billing@acme.test", "550 no such user")


def test_a_delivery_outcome_is_recorded_once_and_only_if_requested():
    """An unknown or already settled delivery id is an invalid transition."""
    invoice = approved_invoice()
    refused(invoice, InvalidTransition, lambda: invoice.record_delivery(
        actor=OWNER, at=NOW, delivery_id=uuid4()
    ))
    delivery_id = request(invoice)
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id)
    refused(invoice, InvalidTransition, lambda: invoice.record_delivery(
        actor=OWNER, at=NOW, delivery_id=delivery_id, error="late bounce"
    ))


@pytest.mark.parametrize(
    ("make", "status"),
    [
        (sent_invoice, Status.SENT),
        (partially_paid_invoice, Status.PARTIALLY_PAID),
        (paid_invoice, Status.PAID),
    ],
)
def test_re_sending_keeps_the_payment_status(make, status):
    """A re-send of a sent, partly paid or paid invoice is allowed and changes no status."""
    invoice = make()
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=request(invoice))
    assert invoice.status is status


# --- payments -------------------------------------------------------------------------------


def test_partial_then_full_payment():
    """119.00 due: 19.00 makes it partially paid, the remaining 100.00 paid."""
    invoice = sent_invoice()
    pay(invoice, "19.00", paid_on=TODAY - days(3))
    assert invoice.status is Status.PARTIALLY_PAID
    assert (invoice.amount_paid, invoice.balance_due) == (D("19.00"), D("100.00"))
    pay(invoice, "100.00")
    assert invoice.status is Status.PAID
    assert invoice.balance_due == 0
    assert [payment.amount for payment in invoice.payments] == [D("19.00"), D("100.00")]
    assert invoice.payments[0].paid_on == TODAY - days(3)


def test_a_payment_may_arrive_before_the_invoice_is_sent():
    """Payments are accepted from ``approved`` on; paying in full goes straight to paid."""
    invoice = approved_invoice()
    pay(invoice, "119.00")
    assert invoice.status is Status.PAID


def test_overpayment_is_refused_and_records_nothing():
    """A payment beyond the balance due answers ``overpayment``."""
    invoice = approved_invoice()
    pay(invoice, "100.00")
    error = refused(invoice, Overpayment, lambda: pay(invoice, "19.01"))
    assert error.code == "overpayment"
    assert invoice.balance_due == D("19.00")
    pay(invoice, "19.00")
    assert invoice.status is Status.PAID


@pytest.mark.parametrize(
    ("amount", "paid_on", "field"),
    [
        ("10.001", TODAY, "amount"),  # EUR has two places
        ("0.00", TODAY, "amount"),
        ("-5.00", TODAY, "amount"),
        ("10.00", TODAY + days(1), "paid_on"),
    ],
    ids=["three-places", "zero", "negative", "future"],
)
def test_bad_payments_are_invalid_values(amount, paid_on, field):
    """Too many places, nothing or less, or a date in the future: a 400 on that field."""
    invoice = approved_invoice()
    error = refused(invoice, InvalidValue, lambda: pay(invoice, amount, paid_on=paid_on))
    assert error.field == field
    assert invoice.status is Status.APPROVED


def test_payment_places_follow_the_currency():
    """JPY takes no decimals and KWD three."""
    yen = approved_invoice(currency="JPY")  # 1 x 100.00 -> 100 yen; 19 % -> 119
    refused(yen, InvalidValue, lambda: pay(yen, "0.5"))
    pay(yen, "19.00")  # a whole number of yen, written with zeros: accepted, stored as 19
    assert yen.payments[-1].amount.as_tuple().exponent == 0
    pay(yen, "100")
    assert yen.status is Status.PAID
    dinar = approved_invoice(currency="KWD")  # 119.000
    pay(dinar, "0.001")
    assert dinar.balance_due == D("118.999")


@pytest.mark.parametrize(
    "make", [open_draft, submitted_invoice, paid_invoice, voided_invoice]
)
def test_payments_only_while_something_is_due(make):
    """Paying a draft, a submitted, a paid or a void invoice is an invalid transition."""
    invoice = make()
    error = refused(invoice, InvalidTransition, lambda: pay(invoice, "1.00"))
    assert error.code == "invalid_transition"


def test_rejected_invoice_takes_no_payment():
    """A rejected invoice is back with its owner; nothing is due yet."""
    invoice = submitted_invoice()
    invoice.reject(actor=MANAGER, at=NOW, reason="typo")
    refused(invoice, InvalidTransition, lambda: pay(invoice, "1.00"))


# --- void -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [open_draft, submitted_invoice, approved_invoice, sent_invoice]
)
def test_void_from_any_state_before_a_payment(make):
    """An admin can void a draft, submitted, approved or sent invoice."""
    invoice = make()
    invoice.void(actor=ADMIN, at=NOW, reason="Issued in error")
    assert invoice.status is Status.VOID
    assert event_types(invoice)[-1] == "InvoiceVoided"


def test_a_rejected_invoice_can_be_voided():
    """Rejected is before any payment too."""
    invoice = submitted_invoice()
    invoice.reject(actor=MANAGER, at=NOW, reason="wrong client")
    invoice.void(actor=ADMIN, at=NOW, reason="Client left")
    assert invoice.status is Status.VOID


@pytest.mark.parametrize("make", [partially_paid_invoice, paid_invoice, voided_invoice])
def test_no_void_after_a_payment_or_twice(make):
    """Money received cannot be voided away, and a void invoice stays void."""
    invoice = make()
    status = invoice.status
    error = refused(invoice, InvalidTransition, lambda: invoice.void(
        actor=ADMIN, at=NOW, reason="again"
    ))
    assert error.code == "invalid_transition"
    assert invoice.status is status


def test_void_needs_a_reason():
    """A blank reason is an InvalidValue on ``reason``."""
    invoice = open_draft()
    error = refused(invoice, InvalidValue, lambda: invoice.void(actor=ADMIN, at=NOW, reason=" "))
    assert error.field == "reason"


def test_a_delivery_pending_when_voided_may_still_report_its_outcome():
    """The worker's report is stored for the audit trail, but the invoice stays void."""
    invoice = approved_invoice()
    delivery_id = request(invoice)
    invoice.void(actor=ADMIN, at=NOW, reason="Cancelled")
    invoice.record_delivery(actor=OWNER, at=NOW, delivery_id=delivery_id)
    assert invoice.status is Status.VOID


# --- overdue --------------------------------------------------------------------------------


def test_overdue_is_derived_from_status_and_due_date():
    """Overdue: approved, sent or partly paid, and past the due date (not on it)."""
    invoice = sent_invoice()
    due = invoice.due_date
    assert not invoice.is_overdue(due)
    assert invoice.is_overdue(due + days(1))
    assert not open_draft().is_overdue(due + days(1))
    assert not paid_invoice().is_overdue(due + days(1))


# --- the lifecycle as a state machine -------------------------------------------------------

EDITABLE = {Status.DRAFT, Status.REJECTED}
PAYABLE = {Status.APPROVED, Status.SENT, Status.PARTIALLY_PAID}
SENDABLE = PAYABLE | {Status.PAID}

QUANTITIES = st.sampled_from(["1", "2", "0.5", "3.25", "12"]).map(D)
TAX_RATES = st.sampled_from(["0", "7", "19"]).map(D)
PERCENTS = st.sampled_from(["0", "2.5", "10", "100"]).map(D)


class InvoiceLifecycle(RuleBasedStateMachine):
    """Random command sequences on one invoice, checked against a model of API.md's rules.

    Each rule predicts from the model whether the command must succeed (one event, version
    + 1) or be refused (which error, no event). After every step all pending events are saved
    to an in-memory event store and the invoice rebuilt from it must equal the live one.
    """

    lines = Bundle("lines")
    deliveries = Bundle("deliveries")

    @initialize(
        currency=st.sampled_from(["EUR", "JPY", "KWD"]),
        discount=PERCENTS,
        earlier_approvals=st.integers(0, 3),
    )
    def open_invoice(self, currency, discount, earlier_approvals):
        self.app = memory_app()
        if earlier_approvals:  # other invoices already took this year's first numbers
            sequence = InvoiceNumberSequence.start(year=YEAR, actor=MANAGER, at=NOW)
            for _ in range(earlier_approvals):
                sequence.issue(invoice_id=uuid4(), actor=MANAGER, at=NOW)
            self.app.save(sequence)
        self.numbers_issued = earlier_approvals
        self.number = None
        self.invoice = open_draft(currency=currency, discount_percent=discount)
        self.also_save = []
        self.version = 1
        self.status = Status.DRAFT
        self.model_lines = {}
        self.discount = discount
        self.notes = ""
        self.terms = 30
        self.paid = D(0)
        self.pending = set()

    # -- helpers --

    def expect(self, error, call):
        """Run ``call``; ``error`` None means it must succeed with exactly one new event."""
        version, pending = self.invoice.version, len(self.invoice.pending_events)
        if error is None:
            result = call()
            assert self.invoice.version == version + 1
            assert len(self.invoice.pending_events) == pending + 1
            self.version += 1
            return result
        with pytest.raises(error):
            call()
        assert self.invoice.version == version
        assert len(self.invoice.pending_events) == pending
        return None

    def editable_or(self, error):
        """Editing outside draft and rejected is an invalid transition, whatever else."""
        return InvalidTransition if self.status not in EDITABLE else error

    @property
    def total(self):
        """The model's total, from its own copy of the lines through the calculation rules."""
        return calculate(
            currency=self.invoice.currency,
            lines=[terms(*line) for line in self.model_lines.values()],
            discount_percent=self.discount,
        ).total

    # -- editing --

    @rule(
        target=lines,
        quantity=QUANTITIES,
        cents=st.integers(0, 100_000),
        tax_rate=TAX_RATES,
        discount=PERCENTS,
    )
    def add_line(self, quantity, cents, tax_rate, discount):
        line_id = uuid4()
        unit_price = D(cents).scaleb(-2)
        error = self.editable_or(None)
        self.expect(error, lambda: self.invoice.add_line(
            actor=OWNER, at=NOW, line_id=line_id, description=f"item {cents}",
            quantity=quantity, unit_price=unit_price, tax_rate=tax_rate,
            discount_percent=discount,
        ))
        if error:
            return multiple()
        self.model_lines[line_id] = (quantity, unit_price, tax_rate, discount)
        return line_id

    @rule(line_id=lines)
    def add_a_duplicate_line(self, line_id):
        error = self.editable_or(InvalidValue if line_id in self.model_lines else None)
        self.expect(error, lambda: self.invoice.add_line(
            actor=OWNER, at=NOW, line_id=line_id, description="dup",
            quantity=D(1), unit_price=D(1), tax_rate=D(0),
        ))
        if error is None:
            self.model_lines[line_id] = (D(1), D(1), D(0), D(0))

    @rule(line_id=st.one_of(lines, st.builds(uuid4)), quantity=QUANTITIES, tax_rate=TAX_RATES)
    def change_line(self, line_id, quantity, tax_rate):
        error = self.editable_or(None if line_id in self.model_lines else LineNotFound)
        if error is None and self.model_lines[line_id][0] == quantity \
                and self.model_lines[line_id][2] == tax_rate:
            # Nothing would change: no event, like change_details.
            version = self.invoice.version
            assert self.invoice.change_line(actor=OWNER, at=NOW, line_id=line_id,
                                            quantity=quantity, tax_rate=tax_rate) is False
            assert self.invoice.version == version
            return
        self.expect(error, lambda: self.invoice.change_line(
            actor=OWNER, at=NOW, line_id=line_id, quantity=quantity, tax_rate=tax_rate
        ))
        if error is None:
            _, unit_price, _, discount = self.model_lines[line_id]
            self.model_lines[line_id] = (quantity, unit_price, tax_rate, discount)

    @rule(line_id=st.one_of(lines, st.builds(uuid4)))
    def remove_line(self, line_id):
        error = self.editable_or(None if line_id in self.model_lines else LineNotFound)
        self.expect(error, lambda: self.invoice.remove_line(actor=OWNER, at=NOW, line_id=line_id))
        if error is None:
            del self.model_lines[line_id]

    @rule(notes=st.sampled_from(["", "net 30", "thanks"]), discount=PERCENTS,
          terms=st.sampled_from([None, 14, 30]))
    def change_details(self, notes, discount, terms):
        changes = {"notes": notes, "discount_percent": discount}
        if terms is not None:
            changes["payment_terms_days"] = terms
        changed = notes != self.notes or discount != self.discount or (
            terms is not None and terms != self.terms
        )
        if self.status not in EDITABLE:
            self.expect(InvalidTransition, lambda: self.invoice.change_details(
                actor=OWNER, at=NOW, **changes
            ))
            return
        if not changed:
            version, pending = self.invoice.version, len(self.invoice.pending_events)
            assert self.invoice.change_details(actor=OWNER, at=NOW, **changes) is False
            assert self.invoice.version == version
            assert len(self.invoice.pending_events) == pending
            return
        assert self.expect(None, lambda: self.invoice.change_details(
            actor=OWNER, at=NOW, **changes
        )) is True
        self.notes, self.discount = notes, discount
        self.terms = self.terms if terms is None else terms
        assert self.invoice.due_date == self.invoice.issue_date + days(self.terms)

    # -- approval --

    @rule()
    def submit(self):
        error = self.editable_or(None if self.model_lines else EmptyInvoice)
        self.expect(error, lambda: self.invoice.submit(actor=OWNER, at=NOW))
        if error is None:
            self.status = Status.SUBMITTED

    @rule(by_owner=st.booleans())
    def approve(self, by_owner):
        # As the command layer does: a fresh copy of the year's sequence issues the number, and
        # is saved with the invoice only if the approval goes through.
        sequence = self.app.get_sequence(YEAR) or InvoiceNumberSequence.start(
            year=YEAR, actor=MANAGER, at=NOW
        )
        actor = OWNER if by_owner else MANAGER
        number = sequence.issue(invoice_id=self.invoice.id, actor=actor, at=NOW)
        if self.status is not Status.SUBMITTED:
            error = InvalidTransition
        else:
            error = FourEyesViolation if by_owner else None
        self.expect(error, lambda: self.invoice.approve(actor=actor, at=NOW, number=number))
        if error is None:
            self.numbers_issued += 1
            assert number == f"INV-{YEAR}-{self.numbers_issued:06d}"
            self.also_save.append(sequence)
            self.status = Status.APPROVED
            self.number = number

    @rule(by_owner=st.booleans(), reason=st.sampled_from(["", "wrong address"]))
    def reject(self, by_owner, reason):
        if self.status is not Status.SUBMITTED:
            error = InvalidTransition
        elif by_owner:
            error = FourEyesViolation
        else:
            error = None if reason else InvalidValue
        actor = OWNER if by_owner else MANAGER
        self.expect(error, lambda: self.invoice.reject(actor=actor, at=NOW, reason=reason))
        if error is None:
            self.status = Status.REJECTED

    # -- delivery --

    @rule(target=deliveries)
    def request_delivery(self):
        delivery_id = uuid4()
        error = None if self.status in SENDABLE else InvalidTransition
        self.expect(error, lambda: self.invoice.request_delivery(
            actor=OWNER, at=NOW, delivery_id=delivery_id, to="billing@acme.test"
        ))
        if error:
            return multiple()
        self.pending.add(delivery_id)
        return delivery_id

    @rule(delivery_id=st.one_of(deliveries, st.builds(uuid4)), failed=st.booleans())
    def record_delivery(self, delivery_id, failed):
        error = None if delivery_id in self.pending else InvalidTransition
        self.expect(error, lambda: self.invoice.record_delivery(
            actor=OWNER, at=NOW, delivery_id=delivery_id, error="bounced" if failed else None
        ))
        if error is None:
            self.pending.discard(delivery_id)
            if not failed and self.status is Status.APPROVED:
                self.status = Status.SENT

    # -- payments and void --

    @rule(
        portion=st.sampled_from(["all", "half", "one unit", "one unit too many", "too precise"]),
        future=st.booleans(),
    )
    def record_payment(self, portion, future):
        unit = quantum(self.invoice.currency)
        balance = self.total - self.paid
        amount = {
            "all": balance,
            "half": (balance / 2).quantize(unit),
            "one unit": unit,
            "one unit too many": balance + unit,
            "too precise": unit / 10,
        }[portion]
        paid_on = TODAY + days(1) if future else TODAY
        if self.status not in PAYABLE:
            error = InvalidTransition
        elif amount <= 0 or -amount.as_tuple().exponent > minor_units(self.invoice.currency):
            error = InvalidValue
        elif future:
            error = InvalidValue
        elif amount > balance:
            error = Overpayment
        else:
            error = None
        self.expect(error, lambda: self.invoice.record_payment(
            actor=OWNER, at=NOW, payment_id=uuid4(), amount=amount, paid_on=paid_on,
            method="card",
        ))
        if error is None:
            self.paid += amount
            self.status = Status.PAID if self.paid == self.total else Status.PARTIALLY_PAID

    @rule(reason=st.sampled_from(["", "duplicate"]), attempt=st.integers(0, 5))
    def void(self, reason, attempt):
        allowed = self.status is not Status.VOID and not self.paid
        if allowed and reason and attempt:
            return  # a void ends the run's story: let one in six through, refusals always
        if not allowed:
            error = InvalidTransition
        else:
            error = None if reason else InvalidValue
        self.expect(error, lambda: self.invoice.void(actor=ADMIN, at=NOW, reason=reason))
        if error is None:
            self.status = Status.VOID

    @rule(cents=st.integers(1, 100_000), straight=st.booleans())
    def advance(self, cents, straight):
        """The next step of the happy path, so that the later states are reached often."""
        if self.status in EDITABLE and not self.model_lines:
            self.add_line(quantity=D(1), cents=cents, tax_rate=D(19), discount=D(0))
        elif self.status in EDITABLE:
            self.submit()
        elif self.status is Status.SUBMITTED and straight:
            self.approve(by_owner=False)
        elif self.status is Status.SUBMITTED:
            self.reject(by_owner=False, reason="wrong address")
        elif self.status is Status.APPROVED and not self.pending:
            self.request_delivery()
        elif self.pending:
            self.record_delivery(delivery_id=next(iter(self.pending)), failed=False)
        elif self.status in PAYABLE:
            self.record_payment(portion="all" if straight else "half", future=False)
        elif straight:  # paid or void: the story is over, and voiding must be refused
            self.void(reason="duplicate", attempt=0)
        else:  # ... and so must any further payment
            self.record_payment(portion="one unit", future=False)

    # -- what must hold after every step --

    @invariant()
    def model_agrees(self):
        assert self.invoice.status is self.status
        assert self.invoice.version == self.version
        assert {
            line.line_id: (line.quantity, line.unit_price, line.tax_rate, line.discount_percent)
            for line in self.invoice.lines
        } == self.model_lines
        assert [line.line_id for line in self.invoice.lines] == list(self.model_lines)
        assert (self.invoice.notes, self.invoice.discount_percent) == (self.notes, self.discount)
        assert self.invoice.due_date == self.invoice.issue_date + days(self.terms)
        assert self.invoice.number == self.number
        assert self.invoice.amount_paid == self.paid
        assert self.invoice.balance_due == self.total - self.paid
        assert self.invoice.payment_terms_days == self.terms
        assert set(self.invoice.pending_deliveries) == self.pending

    @invariant()
    def event_store_rebuilds_the_same_invoice(self):
        numbering, self.also_save = self.also_save, []
        self.app.save(self.invoice, *numbering)
        assert self.invoice.pending_events == []
        stored = self.app.get_invoice(self.invoice.id)
        assert stored == self.invoice
        assert stored.version == self.version
        if numbering:  # saved atomically with the approval, and only then
            assert self.app.get_sequence(YEAR).last == self.numbers_issued


InvoiceLifecycle.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_invoice_lifecycle = InvoiceLifecycle.TestCase


def test_change_line_refuses_unknown_fields():
    """A misspelt field is an error on that field, never silently dropped."""
    invoice = open_draft()
    line_id = invoice.lines[0].line_id if invoice.lines else None
    if line_id is None:
        line_id = uuid4()
        invoice.add_line(actor=OWNER, at=NOW, line_id=line_id, description="x",
                         quantity=D(1), unit_price=D(1), tax_rate=D(0))
    error = refused(invoice, InvalidValue, lambda: invoice.change_line(
        actor=OWNER, at=NOW, line_id=line_id, quantiy=D(2)))
    assert error.field == "quantiy"
