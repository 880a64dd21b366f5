"""Input bounds of API.md: every bad input is a 4xx (never a 500) and appends nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.serializers import LATEST_DATE
from tests.commands.flows import LINE, Api

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


class Raw(str):
    """A request body sent exactly as written, not JSON-encoded by the test."""


def send(api: Api, who: str, method: str, url: str, body: Any, **headers: Any) -> Any:
    client = api.as_(who)
    data = body if isinstance(body, (Raw, bytes)) else json.dumps(body)
    return getattr(client, method)(url, data=data, content_type="application/json", **headers)


def refused(api: Api, store: Any, method: str, url: str, body: Any, status: int = 400,
            who: str = "owner", field: str | None = None) -> Any:
    """The request answers ``status`` and the event store did not move."""
    before = store.max_position()
    response = send(api, who, method, url, body)
    assert response.status_code == status, (body if not isinstance(body, bytes) else "bytes",
                                            response.status_code, response.content[:500])
    assert store.max_position() == before, "a refused command appended events"
    if field is not None:
        assert field in json.dumps(response.json()), response.content
    return response


@pytest.fixture
def draft(api: Api) -> dict[str, str]:
    """A draft invoice with one line, and the urls of its routes."""
    invoice_id, line_id = api.invoice("draft")
    base = f"/api/v1/invoices/{invoice_id}/"
    return {"id": invoice_id, "line": line_id, "invoice": base, "lines": base + "lines/",
            "line_url": base + f"lines/{line_id}/"}


# --- line bounds -----------------------------------------------------------------------------

BAD_VALUES: dict[str, list[Any]] = {
    "quantity": ["0", "0.0000", "-1", "0.00001", "1.00001", "1234567890123", "1234567890123.5",
                 "1e-5", "abc", "", None, True, [], {}, "NaN", "Infinity", "-Infinity", "1,5",
                 "0x10", 0, -0.5],
    "unit_price": ["-0.01", "-1", "0.00001", "1234567890123", "abc", "", None, False, "NaN",
                   ["1"], -0.0001],
    "tax_rate": ["-0.001", "-1", "100.001", "101", "1.0001", "1e3", "abc", "", None, "NaN", 100.5],
    "discount_percent": ["-0.001", "100.001", "1000", "0.0001", "abc", None, "Infinity"],
}
GOOD_VALUES: dict[str, list[Any]] = {
    "quantity": ["0.0001", "1", "999999999999.9999", "123456789012", "1.5000", 3, "1E+2"],
    "unit_price": ["0", "0.0000", "999999999999.9999", "0.0001", 7],
    "tax_rate": ["0", "100", "100.000", "7.125", 19],
    "discount_percent": ["0", "100", "33.333", "0.001"],
}


def _line_routes(api: Api, draft: dict[str, str]) -> dict[str, Any]:
    return {
        "add_line": lambda line: ("post", draft["lines"], line),
        "create_with_lines": lambda line: (
            "post", "/api/v1/invoices/",
            {"client_id": api.client_id, "currency": "EUR", "lines": [LINE, line]},
        ),
        "change_line": lambda line: ("patch", draft["line_url"], line),
    }


@pytest.mark.parametrize("route", ["add_line", "create_with_lines", "change_line"])
def test_line_bounds(api: Api, store, draft, subtests, route: str) -> None:
    """Each bad value of a line field is a 400 naming the field; each good one is stored."""
    build = _line_routes(api, draft)[route]
    for field, value in [(f, v) for f, values in BAD_VALUES.items() for v in values]:
        with subtests.test(field=field, value=value):
            method, url, body = build({**LINE, field: value})
            refused(api, store, method, url, body, field=field)
    for field, value in [(f, v) for f, values in GOOD_VALUES.items() for v in values]:
        with subtests.test(field=field, good=value):
            method, url, body = build({**LINE, field: value})
            response = send(api, "owner", method, url, body)
            assert response.status_code in (200, 201), response.content
            invoice = store.get_invoice(UUID(response.json()["id"]))
            assert getattr(invoice.lines[-1], field) == Decimal(str(value))


def test_negative_zero_is_stored_as_zero(api: Api, store, draft) -> None:
    """``"-0"`` passes ``>= 0``, but no event may record a negative price, rate or percent."""
    body = {**LINE, "unit_price": "-0", "tax_rate": "-0.0", "discount_percent": "-0"}
    response = send(api, "owner", "post", draft["lines"], body)
    assert response.status_code == 201, response.content
    line = store.get_invoice(UUID(draft["id"])).lines[-1]
    for value in (line.unit_price, line.tax_rate, line.discount_percent):
        assert value == 0 and not value.is_signed()
    response = send(api, "owner", "patch", draft["invoice"], {"discount_percent": "-0.000"})
    assert response.status_code == 200, response.content
    assert not store.get_invoice(UUID(draft["id"])).discount_percent.is_signed()


def test_line_needs_its_fields(api: Api, store, draft, subtests) -> None:
    for missing in ("description", "quantity", "unit_price", "tax_rate"):
        with subtests.test(missing=missing):
            body = {name: value for name, value in LINE.items() if name != missing}
            refused(api, store, "post", draft["lines"], body, field=missing)
    with subtests.test(unit="too long"):
        refused(api, store, "post", draft["lines"], {**LINE, "unit": "x" * 17}, field="unit")
    with subtests.test(unit="hours"):
        api.ok(api.post("owner", draft["lines"], {**LINE, "unit": "hours"}), 201)
        assert store.get_invoice(UUID(draft["id"])).lines[-1].unit == "hours"
    with subtests.test(description=""):
        refused(api, store, "post", draft["lines"], {**LINE, "description": ""},
                field="description")
    with subtests.test(description="too long"):
        refused(api, store, "post", draft["lines"], {**LINE, "description": "x" * 1001},
                field="description")


def test_unknown_line_is_404(api: Api, store, draft) -> None:
    url = f"{draft['lines']}{uuid4()}/"
    refused(api, store, "patch", url, {"quantity": "2"}, status=404)
    before = store.max_position()
    assert api.delete("owner", url).status_code == 404
    assert store.max_position() == before


# --- invoice terms ---------------------------------------------------------------------------

TERMS_REFUSED = [
    ({"issue_date": "2026-03-10", "due_date": "2026-03-09"}, "due_date"),
    ({"issue_date": "2026-03-10", "due_date": "2026-03-10", "payment_terms_days": 0},
     "due_date"),
    ({"due_date": "2026-03-10", "payment_terms_days": 14}, "due_date"),
    ({"payment_terms_days": -1}, "payment_terms_days"),
    ({"payment_terms_days": 3651}, "payment_terms_days"),
    ({"payment_terms_days": "two weeks"}, "payment_terms_days"),
    ({"payment_terms_days": 1.5}, "payment_terms_days"),
    ({"payment_terms_days": None}, "payment_terms_days"),
    ({"issue_date": "2026-02-30"}, "issue_date"),
    ({"issue_date": "10/03/2026"}, "issue_date"),
    ({"issue_date": 20260310}, "issue_date"),
    ({"issue_date": None}, "issue_date"),
    ({"due_date": "tomorrow"}, "due_date"),
    ({"issue_date": str(LATEST_DATE + timedelta(days=1))}, "issue_date"),
    ({"issue_date": "9999-12-31", "payment_terms_days": 3650}, "issue_date"),
    ({"due_date": "9999-12-31"}, "due_date"),
    ({"notes": "x" * 5001}, "notes"),
    ({"notes": None}, "notes"),
] + [({"discount_percent": value}, "discount_percent")
     for value in ["-0.001", "100.001", "101", "0.0001", "x", None, [], "NaN"]]


def test_invoice_terms_bounds(api: Api, store, draft, subtests) -> None:
    """The same bounds on creation and on a change of the draft."""
    for body, field in TERMS_REFUSED:
        with subtests.test(**body):
            refused(api, store, "post", "/api/v1/invoices/",
                    {"client_id": api.client_id, "currency": "EUR", **body}, field=field)
            refused(api, store, "patch", draft["invoice"], body, field=field)


def test_due_date_is_checked_against_the_stored_issue_date(api: Api, store) -> None:
    invoice_id = api.create(issue_date="2026-03-10", due_date="2026-04-10")["id"]
    url = f"/api/v1/invoices/{invoice_id}/"
    refused(api, store, "patch", url, {"due_date": "2026-03-09"}, field="due_date")
    refused(api, store, "patch", url, {"issue_date": "2026-04-11"}, field="due_date")
    assert api.ok(api.patch("owner", url, {"due_date": "2026-03-10"}), 200)["version"] == 2


def test_dates_in_the_past_are_fine(api: Api, store) -> None:
    created = api.create(issue_date="1999-01-01", due_date="1999-01-01")
    invoice = store.get_invoice(UUID(created["id"]))
    assert str(invoice.issue_date) == str(invoice.due_date) == "1999-01-01"
    created = api.create(issue_date=str(LATEST_DATE), payment_terms_days=3650)
    assert store.get_invoice(UUID(created["id"])).due_date == LATEST_DATE + timedelta(3650)


def test_unknown_currency(api: Api, store, subtests) -> None:
    for currency in ("XXX", "eur", "EURO", "EU", "", None, 978, "€€€", ["EUR"]):
        with subtests.test(currency=currency):
            refused(api, store, "post", "/api/v1/invoices/",
                    {"client_id": api.client_id, "currency": currency}, field="currency")
            if currency is not None:  # a client may have no default currency
                refused(api, store, "post", "/api/v1/clients/",
                        {"name": "X", "email": "x@example.com", "default_currency": currency},
                        who="manager", field="default_currency")
                refused(api, store, "patch", f"/api/v1/clients/{api.client_id}/",
                        {"default_currency": currency}, who="manager", field="default_currency")


def test_currency_comes_from_the_client_or_is_required(api: Api, store) -> None:
    plain = api.new_client()
    refused(api, store, "post", "/api/v1/invoices/", {"client_id": plain}, field="currency")
    yen = api.new_client(default_currency="JPY")
    created = api.ok(api.post("owner", "/api/v1/invoices/", {"client_id": yen}), 201)
    assert store.get_invoice(UUID(created["id"])).currency == "JPY"


def test_unknown_client(api: Api, store, draft) -> None:
    for client_id in (str(uuid4()), draft["id"], "not-a-uuid", None, "", 12.5):
        refused(api, store, "post", "/api/v1/invoices/",
                {"client_id": client_id, "currency": "EUR"}, field="client_id")
    refused(api, store, "post", "/api/v1/invoices/", {"currency": "EUR"}, field="client_id")
    refused(api, store, "patch", f"/api/v1/clients/{uuid4()}/", {"name": "Nobody"},
            who="manager", status=404)
    # an invoice's id is not a client's
    refused(api, store, "patch", f"/api/v1/clients/{draft['id']}/", {"name": "Nobody"},
            who="manager", status=404)


def test_at_most_500_lines(api: Api, store) -> None:
    body = {"client_id": api.client_id, "currency": "EUR", "lines": [LINE] * 501}
    refused(api, store, "post", "/api/v1/invoices/", body, field="lines")
    body["lines"] = [LINE] * 500
    created = api.ok(api.post("owner", "/api/v1/invoices/", body), 201)
    assert created["version"] == 501
    assert len(store.get_invoice(UUID(created["id"])).lines) == 500


def test_client_bounds(api: Api, store, subtests) -> None:
    for field, value in [("name", ""), ("name", "x" * 201), ("name", None), ("name", "   "),
                         ("email", "not-an-email"), ("email", ""), ("email", None),
                         ("address", "x" * 2001), ("tax_id", "x" * 65), ("name", ["Acme"])]:
        with subtests.test(field=field, value=value if not isinstance(value, str) else value[:8]):
            body = {"name": "Acme", "email": "a@acme.example", field: value}
            refused(api, store, "post", "/api/v1/clients/", body, who="manager", field=field)
            refused(api, store, "patch", f"/api/v1/clients/{api.client_id}/", {field: value},
                    who="manager", field=field)
    for missing in ("name", "email"):
        with subtests.test(missing=missing):
            body = {"name": "Acme", "email": "a@acme.example"}
            del body[missing]
            refused(api, store, "post", "/api/v1/clients/", body, who="manager", field=missing)


# --- unknown and read-only fields ------------------------------------------------------------

READ_ONLY = ["status", "number", "owner", "owner_id", "team_id", "total", "subtotal",
             "tax_total", "discount_total", "amount_paid", "balance_due", "version", "id",
             "created_at", "position"]


def _routes(api: Api, draft: dict[str, str]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every command route with a body that would succeed."""
    return {
        "create": ("post", "/api/v1/invoices/", {"client_id": api.client_id, "currency": "EUR"}),
        "patch": ("patch", draft["invoice"], {"notes": "n"}),
        "add_line": ("post", draft["lines"], dict(LINE)),
        "change_line": ("patch", draft["line_url"], {"quantity": "3"}),
        "client_create": ("post", "/api/v1/clients/", {"name": "B", "email": "b@b.example"}),
        "client_patch": ("patch", f"/api/v1/clients/{api.client_id}/", {"name": "C"}),
        "reject": ("post", draft["invoice"] + "reject/", {"reason": "r"}),
        "approve": ("post", draft["invoice"] + "approve/", {"comment": "c"}),
        "send": ("post", draft["invoice"] + "send/", {"to": "x@example.com"}),
        "payments": ("post", draft["invoice"] + "payments/",
                     {"amount": "1", "paid_on": "2020-01-01", "method": "cash"}),
        "void": ("post", draft["invoice"] + "void/", {"reason": "r"}),
    }


def test_unknown_and_read_only_fields_are_refused(api: Api, store, draft, subtests) -> None:
    """Every read-only name on invoice creation and changes; a sample on the other routes."""
    everything = READ_ONLY + ["line_id", "payment_id", "currency", "client_id", "lines",
                              "foo", "Notes", ""]
    sample = ["status", "number", "owner", "total", "id", "version", "foo", ""]
    for route, (method, url, body) in _routes(api, draft).items():
        names = everything if route in ("create", "patch") else sample + {
            "add_line": ["line_id", "net_amount"], "change_line": ["line_id"],
            "payments": ["payment_id", "currency"], "client_create": ["client_id"],
        }.get(route, [])
        for name in names:
            if name in body or (route == "create" and name in ("currency", "client_id",
                                                               "lines")):
                continue
            _refuse_field(api, store, subtests, route, method, url, body, name)


def _refuse_field(api: Api, store: Any, subtests: Any, route: str, method: str, url: str,
                  body: dict[str, Any], name: str) -> None:
    with subtests.test(route=route, field=name):
        response = refused(api, store, method, url, {**body, name: "x"}, who="admin")
        errors = response.json()
        assert list(errors) == [name], errors
        read_only = name in READ_ONLY or name in ("line_id", "payment_id")
        assert errors[name] == ["This field is read-only." if read_only else "Unknown field."]


def test_read_only_fields_inside_lines_are_refused(api: Api, store) -> None:
    for name in ("line_id", "net_amount", "status", "position"):
        body = {"client_id": api.client_id, "currency": "EUR", "lines": [{**LINE, name: "1"}]}
        refused(api, store, "post", "/api/v1/invoices/", body, field=name)


# --- malformed bodies ------------------------------------------------------------------------

MALFORMED = [Raw('{"client_id": '), Raw("{'client_id': 1}"), Raw('{"quantity": NaN}'),
             Raw('{"quantity": Infinity}'), Raw("{,}"), Raw('{"a": 1} trailing'),
             Raw('{"a": 1,}'), b"\xff\xfe{\x00}", Raw("[" * 100_000 + "]" * 100_000),
             Raw('{"a": ' + "[" * 40 + "]" * 40 + "}"), Raw('{"\\ud800": 1}'),
             Raw('{"notes": "\\udfff"}'), Raw('{"method": "\\ud800"}'),
             Raw('{"a": ' + "1" * 5000 + "}")]
NOT_OBJECTS = [[], [{}], "x", 1, 1.5, None, True, [LINE]]


def test_malformed_and_non_object_bodies(api: Api, store, draft, subtests) -> None:
    """Every route refuses bodies that are not objects; the parser (shared) every malformed one.

    Malformed JSON is tried in full on a few routes and in part on the others.
    """
    for route, (method, url, _) in _routes(api, draft).items():
        malformed = MALFORMED if route in ("create", "payments", "client_patch") \
            else MALFORMED[-6:]
        for body in malformed + NOT_OBJECTS:
            label = body[:40] if isinstance(body, (str, bytes)) else body
            with subtests.test(route=route, body=label):
                response = refused(api, store, method, url, body, who="admin")
                assert isinstance(response.json(), dict)


def test_non_json_content_type_is_refused(api: Api, store) -> None:
    body = {"client_id": api.client_id, "currency": "EUR"}
    before = store.max_position()
    response = api.as_("owner").post("/api/v1/invoices/", body)
    assert response.status_code == 415
    assert store.max_position() == before


def test_json_numbers_are_kept_exact(api: Api, store) -> None:
    """``19.99`` as a JSON number is exactly 19.99, never a binary float."""
    raw = Raw('{"client_id": "%s", "currency": "EUR", "discount_percent": 2.5, "lines": '
              '[{"description": "Widget", "quantity": 3, "unit_price": 19.99, "tax_rate": 19.6,'
              ' "discount_percent": 0.1}, {"description": "Tiny", "quantity": 0.1,'
              ' "unit_price": 0.2, "tax_rate": 7}]}' % api.client_id)
    response = send(api, "owner", "post", "/api/v1/invoices/", raw)
    assert response.status_code == 201, response.content
    invoice = store.get_invoice(UUID(response.json()["id"]))
    first, second = invoice.lines
    assert (first.quantity, first.unit_price, first.tax_rate, first.discount_percent) == (
        Decimal(3), Decimal("19.99"), Decimal("19.6"), Decimal("0.1"))
    assert str(first.unit_price) == "19.99" and str(second.quantity) == "0.1"
    assert invoice.discount_percent == Decimal("2.5")
    assert invoice.totals.subtotal == Decimal("59.93")  # (59.97 - 0.06 line discount) + 0.02


def test_float_payment_amount_is_exact(api: Api, store) -> None:
    invoice_id, _ = api.invoice("approved")
    raw = Raw('{"amount": 10.1, "paid_on": "2020-01-01", "method": "cash"}')
    response = send(api, "owner", "post", f"/api/v1/invoices/{invoice_id}/payments/", raw)
    assert response.status_code == 201, response.content
    assert store.get_invoice(UUID(invoice_id)).amount_paid == Decimal("10.1")


def test_bad_uuid_in_the_url_is_404(api: Api, store, draft, subtests) -> None:
    for url in ("/api/v1/invoices/not-a-uuid/", "/api/v1/invoices/123/submit/",
                "/api/v1/invoices/00000000-0000-0000-0000-00000000000g/approve/",
                "/api/v1/clients/acme/", "/api/v1/invoices/{id}/lines/not-a-uuid/",
                "/api/v1/invoices/{id}x/payments/", "/api/v1/invoices/%00/void/"):
        for method in ("post", "patch", "delete"):
            with subtests.test(url=url, method=method):
                before = store.max_position()
                response = send(api, "admin", method, url.format(id=draft["id"]),
                                {"reason": "x"})
                assert response.status_code == 404
                assert store.max_position() == before


def test_body_over_one_mebibyte_is_413(api: Api, store, draft, subtests) -> None:
    for route in ("create", "add_line", "client_create", "patch", "payments", "approve"):
        with subtests.test(route=route):
            method, url, body = _routes(api, draft)[route]
            padding = MiB - len(json.dumps({**body, "notes": ""}))
            exactly = json.dumps({**body, "notes": "x" * padding})
            assert len(exactly.encode()) == MiB
            # exactly 1 MiB is not too large: it fails on its merits (notes too long or unknown)
            refused(api, store, method, url, Raw(exactly), who="admin", status=400)
            over = json.dumps({**body, "notes": "x" * (padding + 1)})
            response = refused(api, store, method, url, Raw(over), who="admin", status=413)
            assert response.json()["code"] == "too_large"


# --- fuzz ------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "0", "-1", "1.5", "19.99", "2026-01-01", "9999-12-31", "EUR", "JPY",
                       "NaN", "1e400", "100.001", "0.00001"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


def _line_strategy() -> st.SearchStrategy[Any]:
    maybe = lambda good: st.one_of(good, JSON_VALUES)  # noqa: E731
    line = st.fixed_dictionaries(
        {"description": maybe(st.just("Work")),
         "quantity": maybe(st.decimals(min_value=-1, max_value=10**13, places=5).map(str)),
         "unit_price": maybe(st.decimals(min_value=-1, max_value=10**13, places=5).map(str)),
         "tax_rate": maybe(st.decimals(min_value=-1, max_value=101, places=4).map(str))},
        optional={"discount_percent": JSON_VALUES, "status": JSON_VALUES},
    )
    return st.one_of(line, JSON_VALUES)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_invoice_create(api: Api, store, data: st.DataObject) -> None:
    """Whatever JSON arrives, the answer is 201 or 400; a 400 stores nothing."""
    maybe = lambda good: st.one_of(good, good, JSON_VALUES)  # noqa: E731
    body = data.draw(st.one_of(
        st.fixed_dictionaries(
            {"client_id": maybe(st.just(api.client_id))},
            optional={
                "currency": maybe(st.sampled_from(["EUR", "JPY", "KWD"])),
                "issue_date": maybe(st.dates().map(str)),
                "due_date": maybe(st.dates().map(str)),
                "payment_terms_days": maybe(st.integers(-5, 4000)),
                "notes": maybe(st.text(max_size=50)),
                "discount_percent": maybe(st.decimals(0, 100, places=3).map(str)),
                "lines": st.lists(_line_strategy(), max_size=3),
                "status": JSON_VALUES,
                "total": JSON_VALUES,
            },
        ),
        JSON_VALUES,
    ))
    before = store.max_position()
    response = send(api, "owner", "post", "/api/v1/invoices/", body)
    assert response.status_code in (201, 400), (body, response.content)
    if response.status_code == 400:
        assert store.max_position() == before
        assert isinstance(response.json(), dict)
    else:
        assert response.json()["position"] == store.max_position()
