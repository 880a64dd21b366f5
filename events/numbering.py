"""The yearly invoice-number sequence: one aggregate per year, so numbers are gapless.

Approving an invoice saves the invoice and this aggregate in one atomic append. Two concurrent
approvals both try to append version N+1 of the sequence; the event store lets exactly one
through, and the other retries from fresh state. A number can therefore never be skipped or
issued twice.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.values import Actor

NUMBER_FORMAT = "INV-{year}-{sequence:06d}"


def sequence_id(year: int) -> UUID:
    """The fixed id of a year's sequence, so any process finds the same aggregate."""
    return uuid5(NAMESPACE_URL, f"https://nexus.invalid/invoice-number-sequence/{year}")


class InvoiceNumberSequence(Aggregate):
    """Hands out ``INV-<year>-<000001>`` numbers, strictly consecutive within the year."""

    class Event(Aggregate.Event):
        """Every sequence event names who caused it."""

        actor: Actor

    class SequenceStarted(Event, Aggregate.Created):
        """The first approval of a year opened its sequence."""

        year: int

    class NumberIssued(Event):
        """A number went to an invoice."""

        sequence: int
        number: str
        invoice_id: UUID

        def apply(self, numbers: InvoiceNumberSequence) -> None:
            numbers.last = self.sequence

    def __init__(self, *, actor: Actor, year: int) -> None:
        self.year = year
        self.last = 0

    @classmethod
    def start(cls, *, year: int, actor: Actor, at: datetime) -> InvoiceNumberSequence:
        """Open the sequence of ``year``."""
        return cls._create(
            cls.SequenceStarted, id=sequence_id(year), timestamp=at, actor=actor, year=year
        )

    def issue(self, *, invoice_id: UUID, actor: Actor, at: datetime) -> str:
        """Issue the next number to ``invoice_id`` and return it."""
        sequence = self.last + 1
        number = NUMBER_FORMAT.format(year=self.year, sequence=sequence)
        self.trigger_event(
            self.NumberIssued,
            timestamp=at,
            actor=actor,
            sequence=sequence,
            number=number,
            invoice_id=invoice_id,
        )
        return number
