"""Preview and PDF of the hand-computed invoice (``tests.readapi.invoices``): every figure,
the seller and client blocks, the marks, and the visibility of every role."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from commands import invoices
from events.access import Caller
from tests.conftest import bearer_client
from tests.readapi.invoices import EXPECTED, LINES, approve, client_of, draft, hand_computed

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "documents"
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def renders_in_the_request(settings: Any) -> None:
    """No worker in these tests: the PDF view renders it itself (the embedded mode)."""
    settings.NEXUS_DISPATCHER = "workers.dispatch.InlineDispatcher"
    settings.NEXUS_INLINE_CATCH_UP = ""


def session(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def figures_in(text: str, number: str) -> None:
    """Every hand-computed figure, the lines and the parties appear in ``text``."""
    assert number in text
    for line, net, price in zip(LINES, EXPECTED["nets"], EXPECTED["unit_prices"]):
        assert line["description"] in text
        assert net in text and price in text
    for rate, taxable, tax in EXPECTED["taxes"]:
        assert rate in text and taxable in text and tax in text
    for name in ("subtotal", "invoice_discount", "net_total", "tax_total", "total", "paid",
                 "balance_due"):
        assert EXPECTED[name] in text, name
    assert "Müller & Söhne GmbH" in text or "Müller &amp; Söhne GmbH" in text
    assert "DE987654321" in text  # the client's tax id
    assert "DE123456789" in text  # the seller's (settings)
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "2026-03-02" in text and "2026-04-01" in text
    assert "Thank you: payment within 30 days." in text


def test_the_hand_computed_figures_are_the_calculations(store: Any, people: Any) -> None:
    invoice_id, _ = hand_computed(people)
    totals = store.get_invoice(invoice_id).totals
    assert [str(line.allocated_invoice_discount) for line in totals.lines] == [
        "60.00", "6.14", "15.00"]
    assert (str(totals.subtotal), str(totals.tax_total), str(totals.total)) == (
        "1622.85", "224.77", "1766.48")


def test_the_preview_shows_the_invoice(store: Any, people: Any) -> None:
    invoice_id, number = hand_computed(people)

    response = session(people.owner).get(f"/invoices/{invoice_id}/preview/")

    assert response.status_code == 200
    html = response.content.decode()
    figures_in(html, number)
    assert "Müller &amp; Söhne GmbH" in html  # escaped, like every text
    assert 'data-label="Unit price"' in html  # the phone layout's labels
    assert "/static/readapi/documents/invoice.css" in html
    assert "DRAFT" not in html and "VOID" not in html
    assert response["Cache-Control"] == "private, no-store"


def test_the_pdf_holds_the_same_figures_as_searchable_text(store: Any, people: Any) -> None:
    invoice_id, number = hand_computed(people)

    response = bearer_client(people.owner).get(f"/api/v1/invoices/{invoice_id}/pdf/",
                                               HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{number}.pdf"'
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF-")
    figures_in(pdf_text(content), number)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "invoice.pdf").write_bytes(content)  # for people to look at


def test_a_draft_carries_the_draft_mark_and_a_void_invoice_the_void_mark(
        store: Any, people: Any) -> None:
    draft_id = draft(people, client_of(people))
    voided = draft(people, client_of(people, name="Other", email="o@example.com"))
    invoices.invoice_void(invoice_id=voided, caller=Caller.from_user(people.admin),
                          reason="duplicate")
    owner = session(people.owner)

    draft_html = owner.get(f"/invoices/{draft_id}/preview/").content.decode()
    void_html = owner.get(f"/invoices/{voided}/preview/").content.decode()
    draft_pdf = pdf_text(b"".join(owner.get(f"/api/v1/invoices/{draft_id}/pdf/")
                                  .streaming_content))

    assert "DRAFT" in draft_html and "Draft invoice" in draft_html
    assert "VOID" in void_html and "cancelled" in void_html
    assert "DRAFT" in draft_pdf and "not a valid invoice" in draft_pdf


@pytest.mark.parametrize("viewer,visible", [
    ("owner", True), ("manager", True), ("co_manager", True), ("admin", True),
    ("colleague", False), ("outsider", False), ("other_manager", False),
])
def test_visibility_is_the_rule_of_the_roles(store: Any, people: Any, viewer: str,
                                             visible: bool) -> None:
    invoice_id = draft(people, client_of(people))
    user = getattr(people, viewer)
    expected = 200 if visible else 404

    assert session(user).get(f"/invoices/{invoice_id}/preview/").status_code == expected
    assert bearer_client(user).get(f"/invoices/{invoice_id}/preview/").status_code == expected
    assert bearer_client(user).get(f"/api/v1/invoices/{invoice_id}/pdf/").status_code == expected


def test_strangers_are_sent_to_the_login_or_refused(store: Any, people: Any) -> None:
    invoice_id = draft(people, client_of(people))
    anonymous = Client()

    page = anonymous.get(f"/invoices/{invoice_id}/preview/")
    bad_token = anonymous.get(f"/invoices/{invoice_id}/preview/",
                              HTTP_AUTHORIZATION="Bearer not-a-token")
    api = anonymous.get(f"/api/v1/invoices/{invoice_id}/pdf/")

    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/?next=")
    assert bad_token.status_code == 401
    assert bad_token["WWW-Authenticate"].startswith("Bearer")
    assert api.status_code == 401


def test_an_unknown_invoice_is_a_404(store: Any, people: Any) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert session(people.admin).get(f"/invoices/{missing}/preview/").status_code == 404
    assert bearer_client(people.admin).get(f"/api/v1/invoices/{missing}/pdf/").status_code == 404


def test_a_long_invoice_breaks_over_pages(store: Any, people: Any) -> None:
    lines = [{**LINES[index % 3], "description": f"Item {index:03d}"} for index in range(120)]
    invoice_id = draft(people, client_of(people), lines=lines)
    approve(people, invoice_id)

    content = b"".join(bearer_client(people.owner).get(f"/api/v1/invoices/{invoice_id}/pdf/")
                       .streaming_content)

    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert all(f"Item {index:03d}" in text for index in range(120))
    assert "page 1 of" in text
