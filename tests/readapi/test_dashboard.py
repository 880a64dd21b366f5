"""``/dashboard/``: figures of the viewer's scope, read from the report tables only."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from commands import invoices
from events.access import Caller
from projections.projector import catch_up
from readapi.dashboard import MONTH_NAMES
from tests.readapi.invoices import LINES, approve, client_of, draft, pay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def page(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def books(store: Any, people: Any) -> dict[str, Any]:
    """Team A: an overdue EUR invoice partly paid and a draft; team B: an open GBP invoice."""
    eur = draft(people, client_of(people))
    approve(people, eur)
    pay(people, eur)
    draft(people, client_of(people, name="Draft client", email="d@example.com"))
    outsider, other_manager = Caller.from_user(people.outsider), Caller.from_user(
        people.other_manager)
    gbp_client = client_of(people, name="London Ltd", email="ap@london.example")
    gbp = invoices.invoice_create(caller=outsider, client_id=gbp_client, currency="GBP",
                                  payment_terms_days=3650, lines=LINES[:1]).id
    invoices.invoice_submit(invoice_id=gbp, caller=outsider,
                            expected_version=None)
    invoices.invoice_approve(invoice_id=gbp, caller=other_manager,
                             expected_version=None)
    catch_up()
    return {"eur": eur, "gbp": gbp}


def test_a_manager_sees_the_figures_of_their_teams(books: Any, people: Any) -> None:
    response = page(people.manager).get("/dashboard/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Open · EUR" in html and "1,266.48" in html  # 1,766.48 less the 500.00 paid
    assert "Overdue · EUR" in html
    assert "GBP" not in html  # team B's invoice
    this_month = datetime.now(timezone.utc)
    assert f"{MONTH_NAMES[this_month.month - 1]} {str(this_month.year)[2:]}" in html
    assert "1,766.48" in html  # invoiced this month (approval), in the revenue figures
    assert 'class="bar status-partially_paid"' in html and 'class="bar status-draft"' in html
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert response["Cache-Control"] == "private, no-store"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "style-src 'self'" in policy
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy


def test_an_admin_sees_everything(books: Any, people: Any) -> None:
    html = page(people.admin).get("/dashboard/").content.decode()

    assert "Open · EUR" in html and "Open · GBP" in html
    assert "1,428.00" in html  # the GBP invoice: 1,200.00 + 19 % tax, not yet due


def test_users_get_403_and_strangers_the_login(books: Any, people: Any) -> None:
    assert page(people.owner).get("/dashboard/").status_code == 403
    anonymous = Client().get("/dashboard/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_dashboard_reads_no_invoice_row(books: Any, people: Any) -> None:
    viewer = page(people.admin)
    viewer.get("/dashboard/")  # the session and user are loaded once

    with CaptureQueriesContext(connection) as queries:
        assert viewer.get("/dashboard/").status_code == 200

    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "projections_invoicerow" not in tables
    assert "projections_openbalancerow" in tables and "projections_revenuemonthrow" in tables
    assert len(queries.captured_queries) <= 8
