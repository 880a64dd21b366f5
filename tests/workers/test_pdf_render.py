"""The PDF endpoint with workers: 202 while a task renders, the file once it is stored, and a
new version never answered with an older version's file."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from readapi.models import InvoicePdf
from tests.conftest import bearer_client
from tests.readapi.invoices import EXPECTED, hand_computed, pay
from workers.documents import render_invoice_pdf

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
TASK = "workers.documents.render_invoice_pdf"


def renders(broker: Any) -> list[dict[str, Any]]:
    return [kwargs for name, kwargs in broker.sent if name == TASK]


def text_of(response: Any) -> str:
    content = b"".join(response.streaming_content)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_202_while_rendering_then_the_file_of_exactly_that_version(
        db: None, store: Any, broker: Any, people: Any) -> None:
    invoice_id, number = hand_computed(people)
    owner = bearer_client(people.owner)
    url = f"/api/v1/invoices/{invoice_id}/pdf/"

    first = owner.get(url)
    again = owner.get(url)

    assert first.status_code == 202 and again.status_code == 202
    assert first["Retry-After"] == "2"
    assert first.json() == {"status": "rendering", "version": store.get_invoice(invoice_id).version}
    assert len(renders(broker)) == 1  # asked twice, queued once
    render_invoice_pdf.apply(kwargs=renders(broker)[0])

    ready = owner.get(url)

    assert ready.status_code == 200 and ready["Content-Type"] == "application/pdf"
    assert f"Please transfer {EXPECTED['balance_due']} EUR" in text_of(ready)

    pay(people, invoice_id, "1266.48")  # a new version: paid in full
    newer = owner.get(url)

    assert newer.status_code == 202  # not the file of the older version
    assert len(renders(broker)) == 2
    assert renders(broker)[1]["invoice_version"] == str(store.get_invoice(invoice_id).version)
    render_invoice_pdf.apply(kwargs=renders(broker)[1])
    text = text_of(owner.get(url))
    assert "Please transfer 0.00 EUR" in text and "Please transfer 1,266.48" not in text
    assert InvoicePdf.objects.filter(invoice_id=invoice_id).count() == 2


def test_a_render_lost_with_its_message_is_queued_again(
        db: None, store: Any, broker: Any, people: Any) -> None:
    invoice_id, _ = hand_computed(people)
    owner = bearer_client(people.owner)
    url = f"/api/v1/invoices/{invoice_id}/pdf/"
    assert owner.get(url).status_code == 202
    row = InvoicePdf.objects.get(invoice_id=invoice_id)
    InvoicePdf.objects.filter(pk=row.pk).update(queued_at=row.queued_at - timedelta(minutes=3))

    assert owner.get(url).status_code == 202

    assert len(renders(broker)) == 2
    render_invoice_pdf.apply(kwargs=renders(broker)[1])
    render_invoice_pdf.apply(kwargs=renders(broker)[0])  # the late duplicate changes nothing
    assert owner.get(url).status_code == 200
    assert InvoicePdf.objects.filter(invoice_id=invoice_id).count() == 1
