"""The backup README's "Deploying" section prescribes, restored into an empty database.

The backup is one ``pg_dump`` (one consistent snapshot) of every table's schema and of the
data that cannot be recomputed: the event store and Django's own tables (users, teams,
tokens, migrations). The read tables' rows and the snapshots are left out: they are rebuilt
from the events. Restored, then ``rebuild_projections``, the read side answers as before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from django.db import connection

from commands import clients as client_commands
from commands import invoices as invoice_commands
from events.access import Caller
from projections.models import ClientRow, InvoiceRow
from projections.projector import catch_up
from tests.live import test_database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
# README, "Deploying", "Backing up and restoring": the same options, word for word.
DUMP_OPTIONS = ["--format=custom", "--exclude-table-data=projections_*",
                "--exclude-table-data=nexus_snapshots"]


def libpq_args(url: str) -> list[str]:
    parsed = urlparse(url)
    return ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres"]


def manage(url: str, var_dir: Path, *args: str) -> str:
    """``python manage.py ARGS`` on the database at ``url``, projecting in-process."""
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "NEXUS_VAR_DIR": str(var_dir)}
    env.pop("NEXUS_PROJECTION_MODE", None)
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, text=True,
                            capture_output=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_readme_names_the_same_backup() -> None:
    readme = (ROOT / "README.md").read_text()
    assert " ".join(DUMP_OPTIONS).replace("projections_*", "'projections_*'") in readme


@pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not installed")
def test_a_restored_backup_rebuilds_the_same_read_side(
        people: Any, store: Any, tmp_path: Path) -> None:
    manager = Caller.from_user(people.manager)
    client = client_commands.client_register(caller=manager, fields={
        "name": "Backup AG", "email": "backup@example.com"}).id
    for number in range(3):
        invoice_commands.invoice_create(caller=Caller.from_user(people.owner), client_id=client,
                                currency="EUR", lines=[{
                                    "description": f"Hours {number}", "quantity": Decimal(2),
                                    "unit_price": Decimal("50.00"), "tax_rate": Decimal(19)}])
    assert catch_up().error is None  # what the worker does after each command
    invoices = sorted(str(i) for i in InvoiceRow.objects.values_list("id", flat=True))
    assert len(invoices) == 3 and ClientRow.objects.count() == 1

    source = test_database_url()
    dump = tmp_path / "nexus.dump"
    subprocess.run(["pg_dump", *libpq_args(source), *DUMP_OPTIONS, f"--file={dump}",
                    connection.settings_dict["NAME"]], check=True, timeout=120)
    target_name = f"{connection.settings_dict['NAME']}_restored"
    admin = {"host": urlparse(source).hostname, "port": urlparse(source).port or 5432,
             "user": urlparse(source).username or "postgres", "dbname": "postgres",
             "autocommit": True}
    with psycopg.connect(**admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{target_name}"')
        server.execute(f'CREATE DATABASE "{target_name}"')
    target = source.rsplit("/", 1)[0] + f"/{target_name}"
    try:
        subprocess.run(["pg_restore", *libpq_args(source), "--no-owner", "--exit-on-error",
                        f"--dbname={target_name}", str(dump)], check=True, timeout=120)
        with psycopg.connect(target.replace("postgres://", "postgresql://")) as restored:
            assert restored.execute("SELECT count(*) FROM projections_invoicerow"
                                    ).fetchone() == (0,)  # rows left out: rebuilt below
            assert restored.execute("SELECT count(*) FROM accounts_user").fetchone()[0] >= 5
        manage(target, tmp_path, "migrate", "--noinput")  # nothing to apply: the dump has it
        assert "Rebuilt the read tables" in manage(target, tmp_path, "rebuild_projections")
        assert "0 differences" in manage(target, tmp_path, "verify_projections")
        with psycopg.connect(target.replace("postgres://", "postgresql://")) as restored:
            rows = restored.execute("SELECT id::text FROM projections_invoicerow").fetchall()
            # The event store's sequence came along: the next event follows the last one.
            last, sequence = restored.execute(
                "SELECT max(notification_id), (SELECT last_value FROM "
                "nexus_events_notification_id_seq) FROM nexus_events").fetchone()
        assert sorted(row[0] for row in rows) == invoices
        assert last == sequence
    finally:
        with psycopg.connect(**admin) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
