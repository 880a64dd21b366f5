"""``manage.py replay_invoice <id> [--version N]``: events and the state after each, for support."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError

from events.application import get_application
from events.errors import InvoiceNotFound
from readapi.audit import event_entry
from readapi.state import invoice_state


class Command(BaseCommand):
    """Print each event of an invoice and the state it left, up to ``--version``."""

    help = "Replay an invoice's events, printing each event and the state after it."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        """API.md names the option ``--version``; it replaces Django's own."""
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("invoice_id", type=UUID)
        parser.add_argument("--version", type=int, default=None,
                            help="stop after this version (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        app = get_application()
        invoice_id = options["invoice_id"]
        try:
            current = app.get_invoice(invoice_id)
        except InvoiceNotFound:
            raise CommandError(f"No invoice {invoice_id}.") from None
        last = current.version if options["version"] is None else options["version"]
        if not 1 <= last <= current.version:
            raise CommandError(f"--version must be between 1 and {current.version}.")
        invoice = None
        for event in app.events.get(invoice_id, lte=last):
            invoice = event.mutate(invoice)
            entry = event_entry(event)
            self.stdout.write(f"--- v{entry['version']} {entry['type']} at {entry['at']} "
                              f"by {entry['actor']['username']}")
            self.stdout.write("event: " + json.dumps(entry["data"], sort_keys=True))
            state = invoice_state(invoice)
            self.stdout.write(f"state: status={state['status']} number={state['number']} "
                              f"total={state['total']} {state['currency']} "
                              f"paid={state['amount_paid']} due={state['balance_due']} "
                              f"lines={len(state['lines'])}")
