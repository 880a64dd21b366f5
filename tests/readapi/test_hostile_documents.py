"""Other people's text in a document stays text: no fetch, no file read, no code run.

Client names, addresses, line descriptions, units and notes carry the classic payloads
against HTML-to-PDF renderers (remote images, local files, stylesheets, ``@import``, and the
ReportLab CVE-2023-33733 colour expression). A canary HTTP server on this machine counts
every request it gets; after the preview and the PDF it must have counted none, no marker
file may exist, and the PDF must hold no line of /etc/passwd.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from commands import clients, invoices
from events.access import Caller
from readapi.pdf import link_callback
from tests.conftest import bearer_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


class Canary:
    """A local HTTP server that counts every request, whatever the path."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                canary.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"body { color: red; }")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def payloads(url: str, marker: Path) -> list[str]:
    """Texts that would fetch, read or run something if they were markup or style."""
    cve = (  # CVE-2023-33733: ReportLab evaluated a <font color> expression
        "<font color=\"[ [ getattr(pow,Word('__globals__'))['os'].system('touch "
        f"{marker}') for Word in [orgTypeFun('Word', (str,), {{ 'mutated': 1, 'startswith': "
        "lambda self, x: False, '__eq__': lambda self,x: self.mutate() and self.mutated < 0 "
        "and str(self) == x, 'mutate': lambda self: {setattr(self, 'mutated', self.mutated - "
        "1)}, '__hash__': lambda self: hash(str(self)) })] ] for orgTypeFun in "
        "[type(type(1))] ] and 'red'\">exploit</font>")
    return [
        f'<img src="{url}/img.png">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        f"<style>@import url({url}/import.css);</style>",
        f"@import url({url}/bare-import.css);",
        '<img src="/etc/passwd">',
        f'<div style="background-image: url({url}/background.png)">x</div>',
        f'<pdf:barcode value="x" type="code128"/><a href="{url}/link">link</a>',
        cve,
    ]


def test_hostile_text_fetches_nothing_and_reads_no_file(
        store: Any, people: Any, canary: Canary, tmp_path: Path, settings: Any) -> None:
    settings.NEXUS_DISPATCHER = "workers.dispatch.InlineDispatcher"
    settings.NEXUS_INLINE_CATCH_UP = ""
    marker = tmp_path / "pwned"
    texts = payloads(canary.url, marker)
    client_id = clients.client_register(
        caller=Caller.from_user(people.manager),
        fields={"name": texts[0][:200], "email": "evil@example.com",
                "address": "\n".join(texts[1:4]), "tax_id": "<b>X</b>"}).id
    invoice_id = invoices.invoice_create(
        caller=Caller.from_user(people.owner), client_id=client_id, currency="EUR",
        notes="\n".join(texts), lines=[
            {"description": text, "quantity": Decimal(1), "unit_price": Decimal("10.00"),
             "tax_rate": Decimal(19), "unit": "<i>h</i>"} for text in texts]).id
    owner = bearer_client(people.owner)

    preview = owner.get(f"/invoices/{invoice_id}/preview/")
    response = owner.get(f"/api/v1/invoices/{invoice_id}/pdf/")

    assert preview.status_code == 200
    html = preview.content.decode()
    assert f'<img src="{canary.url}' not in html and "&lt;img src=&quot;" in html
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert canary.hits == []
    assert not marker.exists()
    assert "root:x:0:0" not in text and b"root:x:0:0" not in content
    # The payloads are shown, as the text they are.
    assert "<img src=" in text.replace("\n", "")
    assert "getattr(pow" in text.replace("\n", "")


def test_the_link_callback_resolves_only_our_static_files(canary: Canary) -> None:
    css = link_callback("/static/readapi/documents/invoice-pdf.css", None)

    assert Path(css).is_file() and css.endswith("invoice-pdf.css")
    for uri in (f"{canary.url}/x.css", "file:///etc/passwd", "/etc/passwd",
                "/static/../../etc/passwd", "/static/readapi/../../../../etc/passwd",
                "/static/readapi/documents/missing.css", "//127.0.0.1/x",
                "/static/readapi/graphiql/graphiql.min.js"):
        assert link_callback(uri, None) == "data:,", uri
    assert canary.hits == []


def test_the_page_and_its_assets_come_from_our_origin_only(
        store: Any, people: Any, settings: Any) -> None:
    settings.NEXUS_DISPATCHER = "workers.dispatch.InlineDispatcher"
    client_id = clients.client_register(caller=Caller.from_user(people.manager),
                                         fields={"name": "Acme", "email": "a@example.com"}).id
    invoice_id = invoices.invoice_create(caller=Caller.from_user(people.owner),
                                         client_id=client_id, currency="EUR").id
    page = Client()
    page.force_login(people.owner)

    response = page.get(f"/invoices/{invoice_id}/preview/")

    html = response.content.decode()
    assert "<script" not in html and "<style" not in html and " style=" not in html
    assert "http://" not in html and "https://" not in html
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "style-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
