"""``amount_out_of_range`` over HTTP (API.md, "Input bounds", amended): every command that can
grow an amount answers 400 ``{<field>: [message], "code": "amount_out_of_range"}`` once a line's
gross, the invoice's total or a payment would reach 10^15, and appends nothing; just below
the limit, the same commands succeed.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from tests.commands.flows import LINE, Api

pytestmark = pytest.mark.django_db

BIGGEST = "999999999999.9999"  # the largest quantity or unit price the API takes
TERA = "999999999999"  # 10^12 - 1, the largest whole unit price


def out_of_range(api: Api, store: Any, method: str, url: str, body: Any, field: str) -> str:
    """The command answers 400 naming ``field`` with the code, and the store did not move."""
    before = store.max_position()
    response = api.call("owner", method, url, body)
    assert response.status_code == 400, (response.status_code, response.content)
    answer = response.json()
    assert answer["code"] == "amount_out_of_range", answer
    assert set(answer) == {field, "code"}, answer
    assert isinstance(answer[field], list) and len(answer[field]) == 1
    assert store.max_position() == before, "a refused command appended events"
    return answer[field][0]


def line(quantity: str, unit_price: str, tax_rate: str = "0", **fields: str) -> dict[str, str]:
    return {**LINE, "quantity": quantity, "unit_price": unit_price, "tax_rate": tax_rate,
            **fields}


@pytest.fixture
def draft(api: Api) -> dict[str, str]:
    """A draft with one ordinary line, and its urls."""
    invoice_id, line_id = api.invoice("draft")
    base = f"/api/v1/invoices/{invoice_id}/"
    return {"id": invoice_id, "invoice": base, "lines": base + "lines/",
            "line": base + f"lines/{line_id}/"}


def test_the_issues_line_is_refused_on_every_route(api: Api, store, draft) -> None:
    """999999999999.9999 x 999999999999.9999 answered 201 and then stopped the projector."""
    big = line(BIGGEST, BIGGEST)
    message = out_of_range(api, store, "post", "/api/v1/invoices/",
                           {"client_id": api.client_id, "currency": "EUR", "lines": [LINE, big]},
                           "lines")
    assert message.startswith("Line 2: ")
    out_of_range(api, store, "post", draft["lines"], big, "unit_price")
    out_of_range(api, store, "patch", draft["line"], {"quantity": BIGGEST, "unit_price": BIGGEST},
                 "unit_price")
    api.ok(api.patch("owner", draft["line"], {"unit_price": TERA}), 200)  # 2 x 10^12
    out_of_range(api, store, "patch", draft["line"], {"quantity": "1001"}, "quantity")


def test_a_total_reaching_the_limit_is_refused_on_every_route(api: Api, store, draft) -> None:
    """Lines each below the limit whose total reaches it, and a smaller invoice discount."""
    six = line("600", TERA)
    out_of_range(api, store, "post", "/api/v1/invoices/",
                 {"client_id": api.client_id, "currency": "EUR", "lines": [six, six]}, "lines")
    six_id = api.ok(api.post("owner", draft["lines"], six), 201)["line_id"]
    out_of_range(api, store, "post", draft["lines"], six, "unit_price")
    out_of_range(api, store, "patch", f"{draft['lines']}{six_id}/", {"tax_rate": "100"},
                 "tax_rate")

    halved = api.create(discount_percent="50", lines=[six, six])["id"]
    out_of_range(api, store, "patch", f"/api/v1/invoices/{halved}/", {"discount_percent": "10"},
                 "discount_percent")


@pytest.mark.parametrize(("currency", "total", "payment"), [
    ("EUR", "999999999999999.99", "999999999999999.99"),
    ("KWD", "999999999999999.999", "999999999999999.999"),
    ("JPY", "999999999999999", "999999999999999"),
])
def test_the_largest_invoice_is_accepted_and_paid_in_one_payment(api: Api, store, currency: str,
                                                                 total: str,
                                                                 payment: str) -> None:
    """Just below the limit everything works, a single payment of the whole total included
    (the payment field used to stop at 12 digits before the point)."""
    lines = {
        "EUR": [line("1000", BIGGEST), line("1", "0.09")],
        "KWD": [line("1000", BIGGEST), line("1", "0.099")],
        "JPY": [line("1000", "999999999999.999")],
    }[currency]
    invoice_id = api.create(currency=currency, lines=lines)["id"]
    assert str(store.get_invoice(UUID(invoice_id)).totals.total) == total
    api.act(invoice_id, "submit", "owner")
    api.act(invoice_id, "approve", "manager")
    assert api.pay(invoice_id, payment)["status"] == "paid"


@pytest.mark.parametrize("amount", ["1000000000000000", "1000000000000000.00", "1E+15",
                                    "1e400", "1E+999999", 1e16])
def test_a_payment_reaching_the_limit_is_out_of_range(api: Api, store, amount: Any) -> None:
    """400 amount_out_of_range (not 409 overpayment, and never a 500 for a huge exponent)."""
    invoice_id, _ = api.invoice("approved")
    body = {"amount": amount, "paid_on": "2020-01-01", "method": "cash"}
    out_of_range(api, store, "post", f"/api/v1/invoices/{invoice_id}/payments/", body, "amount")


def test_the_answer_is_the_documented_body(api: Api, store, draft) -> None:
    """Exactly ``{"unit_price": ["..."], "code": "amount_out_of_range"}``, as JSON."""
    response = api.post("owner", draft["lines"], line("1001", TERA))
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body == {"unit_price": [body["unit_price"][0]], "code": "amount_out_of_range"}
    assert "10^15" in body["unit_price"][0]
