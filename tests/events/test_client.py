"""The Client aggregate: registration, changes that record only what changed, and refusals."""

from uuid import uuid4

import pytest

from events.client import Client
from events.errors import InvalidValue
from tests.events.builders import MANAGER, NOW


def register(**fields):
    """A client registered by a manager (only managers and admins may)."""
    return Client.register(
        client_id=uuid4(),
        actor=MANAGER,
        at=NOW,
        name=fields.pop("name", "Acme GmbH"),
        email=fields.pop("email", "billing@acme.test"),
        **fields,
    )


def test_registration_keeps_every_field():
    """Optional fields default to empty, the currency to none."""
    client = register(address="Hauptstr. 1", tax_id="DE123")
    assert (client.name, client.email, client.address, client.tax_id) == (
        "Acme GmbH",
        "billing@acme.test",
        "Hauptstr. 1",
        "DE123",
    )
    assert client.default_currency is None
    assert client.registered_by == MANAGER
    assert client.version == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"name": "  "}, "name"), ({"default_currency": "EURO"}, "default_currency")],
)
def test_registration_refuses_a_blank_name_or_unknown_currency(fields, field):
    """Both are 400s on the named field."""
    with pytest.raises(InvalidValue) as raised:
        register(**fields)
    assert raised.value.field == field


def test_a_change_records_only_the_changed_fields():
    """``ClientChanged.changes`` carries the new values of what changed, nothing else."""
    client = register()
    client.collect_events()
    assert client.change(actor=MANAGER, at=NOW, name="Acme AG", email="billing@acme.test")
    (changed,) = client.collect_events()
    assert changed.changes == {"name": "Acme AG"}
    assert client.name == "Acme AG" and client.version == 2


def test_a_change_to_the_same_values_records_nothing():
    """A PATCH with the current values is not an event."""
    client = register(default_currency="EUR")
    client.collect_events()
    assert client.change(actor=MANAGER, at=NOW, default_currency="EUR", name="Acme GmbH") is False
    assert client.collect_events() == [] and client.version == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"default_currency": "XYZ"}, "default_currency"),
        ({"registered_by": "me"}, "registered_by"),
    ],
)
def test_a_change_refuses_bad_or_unknown_fields(changes, field):
    """Invalid values and fields that are not the client's are refused, recording nothing."""
    client = register()
    client.collect_events()
    with pytest.raises(InvalidValue) as raised:
        client.change(actor=MANAGER, at=NOW, **changes)
    assert raised.value.field == field
    assert client.collect_events() == [] and client.name == "Acme GmbH"
