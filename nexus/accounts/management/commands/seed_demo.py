"""``python manage.py seed_demo``: demo teams, users, clients and invoices; prints the logins."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from commands import clients as clients_commands
from commands import invoices
from commands.results import CommandResult
from events.access import Caller
from events.values import Role
from nexus.accounts.models import Team, User
from nexus.dispatch import dispatcher

DEMO_PASSWORD = "nexus-demo-2026"
PEOPLE = [
    # username, role, team, manages
    ("admin", Role.ADMIN, None, ()),
    ("maria", Role.MANAGER, "Sales", ("Sales",)),
    ("mark", Role.MANAGER, "Sales", ("Sales", "Services")),
    ("alice", Role.USER, "Sales", ()),
    ("bob", Role.USER, "Sales", ()),
    ("carol", Role.USER, "Services", ()),
]
CLIENTS = [
    ("Acme GmbH", "billing@acme.example", "EUR"),
    ("Globex Ltd", "accounts@globex.example", "GBP"),
    ("Initech KK", "keiri@initech.example", "JPY"),
]


class Command(BaseCommand):
    """Loads demo data into an empty database; does nothing when users exist."""

    help = "Create demo teams, users (admin, two managers, three users), clients and invoices."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true",
                            help="Quietly do nothing when the database already has users.")

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.exists():
            if not options["if_empty"]:
                self.stdout.write("Users exist already: demo data not loaded.")
            return
        users = self._people()
        last = self._invoices(users)
        # No view calls the handlers here: hand the follow-ups to the dispatcher as a view
        # would (inline: projected now; Celery: a catch-up hint). The last command's position
        # covers every event before it.
        dispatcher().after_command(last)
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins (password for all: "
                                             f"{DEMO_PASSWORD}):"))
        for username, role, team, manages in PEOPLE:
            extra = f", manages {', '.join(manages)}" if manages else ""
            self.stdout.write(f"  {username:<6} {role.value:<8} team {team or '-'}{extra}")

    @transaction.atomic
    def _people(self) -> dict[str, User]:
        teams = {name: Team.objects.create(name=name) for name in ("Sales", "Services")}
        users: dict[str, User] = {}
        for username, role, team, manages in PEOPLE:
            user = User.objects.create_user(
                username=username, email=f"{username}@nexus.example", password=DEMO_PASSWORD,
                role=role.value, team=teams.get(team) if team else None,
                is_staff=role is Role.ADMIN, is_superuser=role is Role.ADMIN,
            )
            for name in manages:
                teams[name].managers.add(user)
            users[username] = user
        return users

    def _invoices(self, users: dict[str, User]) -> CommandResult:
        callers = {name: Caller.from_user(user) for name, user in users.items()}
        clients = [
            clients_commands.client_register(caller=callers["maria"], fields={
                "name": name, "email": email, "default_currency": currency,
            }).id
            for name, email, currency in CLIENTS
        ]
        today = date.today()
        last = None
        for index, owner in enumerate(["alice", "bob", "carol", "alice", "bob", "carol"]):
            created = last = invoices.invoice_create(
                caller=callers[owner], client_id=clients[index % 3], currency=None,
                issue_date=today - timedelta(days=40 - index * 5), payment_terms_days=30,
                lines=[
                    {"description": "Consulting", "quantity": Decimal(8 + index),
                     "unit_price": Decimal("120.00"), "tax_rate": Decimal(19)},
                    {"description": "Travel", "quantity": Decimal(1),
                     "unit_price": Decimal("86.40"), "tax_rate": Decimal(7),
                     "discount_percent": Decimal("10")},
                ],
            )
            if index >= 4:
                continue  # two drafts stay drafts
            common = {"invoice_id": created.id}
            last = invoices.invoice_submit(caller=callers[owner], **common)
            if index == 3:
                continue  # one waits for approval
            approver = "mark" if owner == "carol" else "maria"
            last = invoices.invoice_approve(caller=callers[approver], **common)
            if index == 0:
                last = invoices.invoice_record_payment(
                    caller=callers[owner], amount=Decimal("500.00"), paid_on=today,
                    method="bank_transfer", reference="DEMO-1", **common,
                )
        assert last is not None  # the loop ran
        return last
