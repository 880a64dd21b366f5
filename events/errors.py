"""Domain errors. Each carries the stable ``code`` that API.md promises clients."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the domain refuses to break."""

    code = "domain_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidTransition(DomainError):
    """The invoice's state forbids the command (editing after submit, paying a draft...)."""

    code = "invalid_transition"


class EmptyInvoice(DomainError):
    """Submitting an invoice without lines."""

    code = "empty_invoice"


class Overpayment(DomainError):
    """A payment beyond the balance due."""

    code = "overpayment"


class InvalidValue(DomainError):
    """A value that breaks an invariant of the domain (a due date before the issue date...)."""

    code = "invalid"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class AmountOutOfRange(InvalidValue):
    """An amount that would reach ``AMOUNT_LIMIT`` (10^15 in the currency's major unit).

    Every read column and every sum is sized from that bound (API.md, "Input bounds"), so an
    amount beyond it is refused here, before it becomes an event the read side must hold.
    """

    code = "amount_out_of_range"


class Forbidden(DomainError):
    """The caller may see the invoice but not do this to it (their role, or four eyes)."""

    code = "permission_denied"


class NotFound(DomainError):
    """An aggregate, or a part of one, that does not exist."""

    code = "not_found"


class InvoiceNotFound(NotFound):
    """No invoice with that id."""


class ClientNotFound(NotFound):
    """No client with that id."""


class LineNotFound(NotFound):
    """No line with that id on the invoice."""
