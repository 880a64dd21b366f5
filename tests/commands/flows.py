"""Helpers that drive clients and invoices over HTTP into the state a test needs.

Every step goes through the REST command API with a real Bearer token, and checks its
answer, so a broken step fails where it happens and not later in the test.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from rest_framework.test import APIClient

from workers import delivery

LINE = {"description": "Consulting", "quantity": "2", "unit_price": "50.00", "tax_rate": "20"}
LINE_TOTAL = "120.00"  # 2 x 50.00 + 20 % tax, in EUR

ROLES = ["admin", "manager", "co_manager", "other_manager", "owner", "colleague", "outsider",
         "anonymous"]

# Who approves an invoice of each owner (four eyes: never the owner).
APPROVER = {
    "owner": "manager",
    "colleague": "manager",
    "manager": "co_manager",
    "co_manager": "manager",
    "outsider": "other_manager",
    "admin": "second_admin",
}

class Api:
    """Authenticated API clients by role name, plus builders of clients and invoices."""

    def __init__(self, people: Any, store: Any) -> None:
        self.people = people
        self.store = store
        self._client = APIClient()
        self._tokens: dict[str, str] = {}
        self._client_id: str | None = None

    # --- who is calling ----------------------------------------------------------------------

    def user(self, who: str) -> Any:
        """The user behind a role name; ``second_admin`` is made on first use."""
        if who == "second_admin" and not hasattr(self.people, "second_admin"):
            from nexus.accounts.models import User

            self.people.second_admin = User.objects.create_user(
                username="secondadmin", email="second@example.com",
                password="correct horse battery", role="admin",
            )
        return getattr(self.people, who)

    def as_(self, who: str) -> APIClient:
        """The API client, now authenticating as ``who`` (``anonymous``: no credentials).

        One client (so Django's handler and middleware load once per test) and one token
        per person; each call switches the ``Authorization`` header.
        """
        if who == "anonymous":
            self._client.credentials()
            return self._client
        if who not in self._tokens:
            from nexus.accounts.models import AccessToken

            self._tokens[who] = AccessToken.issue(self.user(who))
        self._client.credentials(HTTP_AUTHORIZATION=f"Bearer {self._tokens[who]}")
        return self._client

    def call(self, who: str, method: str, url: str, body: Any = None, **headers: Any) -> Any:
        """One request with a JSON body (``None``: no body)."""
        client = self.as_(who)
        kwargs: dict[str, Any] = dict(headers)
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(client, method.lower())(url, **kwargs)

    def post(self, who: str, url: str, body: Any = None, **headers: Any) -> Any:
        return self.call(who, "post", url, body, **headers)

    def patch(self, who: str, url: str, body: Any = None, **headers: Any) -> Any:
        return self.call(who, "patch", url, body, **headers)

    def delete(self, who: str, url: str, **headers: Any) -> Any:
        return self.call(who, "delete", url, None, **headers)

    def ok(self, response: Any, status: int) -> dict[str, Any]:
        """The JSON body of a response that must have ``status``."""
        assert response.status_code == status, (response.status_code, response.content)
        return response.json()

    # --- clients ----------------------------------------------------------------------------

    def new_client(self, who: str = "manager", **fields: Any) -> str:
        body = {"name": "Acme GmbH", "email": "billing@acme.example", **fields}
        return self.ok(self.post(who, "/api/v1/clients/", body), 201)["id"]

    @property
    def client_id(self) -> str:
        """A client shared by the test's invoices (made on first use)."""
        if self._client_id is None:
            self._client_id = self.new_client()
        return self._client_id

    # --- invoices ---------------------------------------------------------------------------

    def create(self, who: str = "owner", currency: str = "EUR", **fields: Any) -> dict[str, Any]:
        body = {"client_id": self.client_id, "currency": currency, **fields}
        return self.ok(self.post(who, "/api/v1/invoices/", body), 201)

    def add_line(self, invoice_id: str, who: str = "owner", **fields: Any) -> str:
        url = f"/api/v1/invoices/{invoice_id}/lines/"
        return self.ok(self.post(who, url, {**LINE, **fields}), 201)["line_id"]

    def act(self, invoice_id: str, action: str, who: str, body: Any = None,
            status: int = 200) -> dict[str, Any]:
        """POST ``/invoices/<id>/<action>/`` and require ``status``."""
        return self.ok(self.post(who, f"/api/v1/invoices/{invoice_id}/{action}/", body), status)

    def pay(self, invoice_id: str, amount: str, who: str = "owner",
            paid_on: str | None = None, status: int = 201) -> dict[str, Any]:
        paid_on = paid_on or datetime.now(timezone.utc).date().isoformat()
        body = {"amount": amount, "paid_on": paid_on, "method": "bank_transfer"}
        return self.act(invoice_id, "payments", who, body, status)

    def deliver(self, invoice_id: str, answer: dict[str, Any]) -> None:
        """Complete a queued delivery here, as the worker would (a no-op once delivered)."""
        delivery.deliver_now(invoice_id=UUID(invoice_id), delivery_id=UUID(answer["delivery_id"]))

    def invoice(self, state: str = "draft", owner: str = "owner",
                currency: str = "EUR") -> tuple[str, str]:
        """A fresh invoice of ``owner`` in ``state``; returns its id and its one line's id."""
        approver = APPROVER[owner]
        invoice_id = self.create(owner, currency, lines=[LINE])["id"]
        line_id = str(self.store.get_invoice(UUID(invoice_id)).lines[0].line_id)
        if state == "draft":
            return invoice_id, line_id
        if state == "void":
            self.act(invoice_id, "void", "admin", {"reason": "duplicate"})
            return invoice_id, line_id
        self.act(invoice_id, "submit", owner)
        if state == "submitted":
            return invoice_id, line_id
        if state == "rejected":
            self.act(invoice_id, "reject", approver, {"reason": "wrong rate"})
            return invoice_id, line_id
        self.act(invoice_id, "approve", approver)
        if state == "approved":
            return invoice_id, line_id
        if state in ("sent", "partially_paid", "paid"):
            self.deliver(invoice_id, self.act(invoice_id, "send", owner, status=202))
            assert self.status_of(invoice_id) == "sent"
        if state == "partially_paid":
            self.pay(invoice_id, "20.00" if currency != "JPY" else "20", owner)
        if state == "paid":
            total = str(self.store.get_invoice(UUID(invoice_id)).balance_due)
            self.pay(invoice_id, total, owner)
        assert self.status_of(invoice_id) == state
        return invoice_id, line_id

    def status_of(self, invoice_id: str) -> str:
        return self.store.get_invoice(UUID(invoice_id)).status.value

    def version_of(self, invoice_id: str) -> int:
        return self.store.get_invoice(UUID(invoice_id)).version
