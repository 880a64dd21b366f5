"""``manage.py replay_invoice <id> [--version N]``: each event and the state after it."""

from __future__ import annotations

import io
import json
import re
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.core.management import CommandError, call_command

from readapi.state import invoice_state
from tests.audit.journey import EXPECTED_FIGURES, TYPES, Journey, iso

pytestmark = pytest.mark.django_db

HEADER = re.compile(r"^--- v(\d+) (\w+) at (\S+) by (\S+)$")
STATE = re.compile(r"^state: status=(\w+) number=(\S+) total=(\S+) (\w{3}) paid=(\S+) "
                   r"due=(\S+) lines=(\d+)$")


def replay(*args: Any, **options: Any) -> list[dict[str, Any]]:
    """Run the command and cut its output into one block per event."""
    out = io.StringIO()
    call_command("replay_invoice", *args, stdout=out, **options)
    blocks: list[dict[str, Any]] = []
    for text in out.getvalue().splitlines():
        if header := HEADER.match(text):
            version, kind, at, actor = header.groups()
            blocks.append({"version": int(version), "type": kind, "at": at, "actor": actor})
        elif text.startswith("event: "):
            blocks[-1]["data"] = json.loads(text[len("event: "):])
        elif state := STATE.match(text):
            status, number, total, currency, paid, due, lines = state.groups()
            blocks[-1]["state"] = {"status": status, "number": number, "total": total,
                                   "currency": currency, "amount_paid": paid,
                                   "balance_due": due, "lines": int(lines)}
        elif text.strip():
            raise AssertionError(f"unexpected output line: {text!r}")
    for block in blocks:
        assert {"version", "type", "at", "actor", "data", "state"} <= set(block), block
    return blocks


def folded(store: Any, invoice_id: str, version: int) -> dict[str, Any]:
    invoice = None
    for event in store.events.get(UUID(invoice_id), lte=version):
        invoice = event.mutate(invoice)
    return invoice_state(invoice)


def test_one_block_per_event_with_the_state_after_it(store: Any, journey: Journey) -> None:
    blocks = replay(journey.invoice_id)

    assert [b["version"] for b in blocks] == list(range(1, journey.last_version + 1))
    assert [b["type"] for b in blocks] == TYPES
    assert [b["at"] for b in blocks] == [iso(step.at) for step in journey.steps]
    assert [b["actor"] for b in blocks] == [journey.actors[step.actor]["username"]
                                            for step in journey.steps]
    for block in blocks:
        expected = folded(store, journey.invoice_id, block["version"])
        got = block["state"]
        assert got == {"status": expected["status"], "number": str(expected["number"]),
                       "total": expected["total"], "currency": "EUR",
                       "amount_paid": expected["amount_paid"],
                       "balance_due": expected["balance_due"],
                       "lines": len(expected["lines"])}, block["version"]
    for version, figures in EXPECTED_FIGURES.items():
        state = blocks[version - 1]["state"]
        for name, value in figures.items():
            if name not in state:  # the replay prints no subtotal, discount or tax total
                continue
            assert state[name] == (str(value) if name == "number" else value), (version, name)
    assert blocks[11]["data"] == {"number": journey.number, "comment": "Fine now"}
    assert blocks[-1]["state"]["status"] == "paid"


def test_version_stops_the_replay(store: Any, journey: Journey) -> None:
    everything = replay(journey.invoice_id)
    for version in (1, 3, 12, journey.last_version):
        blocks = replay(journey.invoice_id, version=version)
        assert blocks == everything[:version], version
    assert replay(journey.invoice_id, "--version", "7") == everything[:7]
    assert replay(journey.invoice_id, "--version=9")[-1]["state"]["status"] == "rejected"

    voided = replay(journey.voided_id)
    assert [b["state"]["status"] for b in voided] == ["draft", "draft", "submitted", "void"]


def test_unknown_ids_and_versions_out_of_range_are_command_errors(journey: Journey) -> None:
    with pytest.raises(CommandError):
        replay(str(uuid4()))
    with pytest.raises(CommandError):
        replay(journey.client_id)  # a client, not an invoice
    with pytest.raises(CommandError):
        replay("not-a-uuid")
    for version in (0, -1, journey.last_version + 1, 10_000):
        with pytest.raises(CommandError):
            replay(journey.invoice_id, version=version)
        with pytest.raises(CommandError):
            replay(journey.invoice_id, "--version", str(version))
