"""The original project, measured beside Nexus in the same sitting (``bench/http.py`` calls it).

Issue 10's ratios compare Nexus with the product it replaces, the public repository
``abdelrahman-asaad/alx-project-nexus``: its create-invoice endpoint and its REST page of 50
invoices over 10,000. Nothing of it is committed here. Point ``NEXUS_PEER_SRC`` at a checkout
(the directory holding ``invoice_sys/``) and ``NEXUS_PEER_PYTHON`` at a Python whose
environment has its ``requirements.txt`` and gunicorn installed; unset, the original is skipped
and the table says so. The settings override, the seed and the bulk load in ``bench/peer/``
point it at a scratch database (``perf_peer``) and Redis db 9, DEBUG off, throttles raised.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.http import SECONDS, closed_loop, free_port, psql, running

PEER_DIR = Path(__file__).resolve().parent / "peer"
DATABASE = os.environ.get("NEXUS_PEER_DATABASE", "perf_peer")
PASSWORD = "Bench-pass-123"


def configured() -> tuple[Path, str] | None:
    """The checkout and its Python, or ``None`` when the original is not set up here."""
    src, python = os.environ.get("NEXUS_PEER_SRC"), os.environ.get("NEXUS_PEER_PYTHON")
    if not src or not python or not (Path(src) / "invoice_sys").is_dir():
        return None
    return Path(src) / "invoice_sys", python


class PeerClient:
    """One keep-alive connection with the original's JWT."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Accept": "application/json"}

    def request(self, method: str, path: str, body: Any = None) -> int:
        payload = None if body is None else json.dumps(body)
        self.connection.request(method, path, body=payload, headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


def serving(port: int) -> bool:
    """Any HTTP answer at all: the original has no health endpoint."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/api/invoices/")
        connection.getresponse().read()
        connection.close()
        return True
    except OSError:
        return False


def measure() -> dict[str, Any] | None:
    """Create (3 items) and the page of 50 at 1 and 8 clients; ``None`` if not configured."""
    found = configured()
    if found is None:
        return None
    project, python = found
    env = {**os.environ, "PYTHONPATH": str(PEER_DIR), "DJANGO_SETTINGS_MODULE":
           "peer_bench_settings", "PEER_DB": DATABASE}
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DATABASE}"')

    def manage(*args: str, stdin: str | None = None) -> str:
        return subprocess.run([python, "manage.py", *args], cwd=project, env=env, input=stdin,
                              check=True, capture_output=True, text=True).stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("shell", stdin=(PEER_DIR / "seed_users.py").read_text())
    loaded = manage("shell", stdin=(PEER_DIR / "bulk_load.py").read_text()).strip()
    seller = int(manage("shell", "-c", "from accounts.models import User; "
                        "print(User.objects.get(email='sales@peer.test').id)").strip())
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="nexus-bench-peer-"))
    gunicorn = [python, "-m", "gunicorn", "invoice_sys.wsgi:application", "--workers", "2",
                "--bind", f"127.0.0.1:{port}"]
    table: dict[str, Any] = {"loaded": loaded}
    with running(gunicorn, env, logs / "gunicorn.log", lambda: serving(port),
                 cwd=project):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/api/accounts/token/", body=json.dumps(
            {"email": "sales@peer.test", "password": PASSWORD}),
            headers={"Content-Type": "application/json"})
        token = json.loads(connection.getresponse().read())["access"]
        connection.close()

        def create(client: PeerClient, n: int) -> bool:
            body = {"client": 1 + n % 100, "user": seller, "date": "2025-03-01",
                    "due_date": "2025-04-01", "status": "unpaid", "items": [
                        {"product": 1 + (n + k) % 20, "quantity": 1 + k,
                         "unit_price": f"{5 + (n * 7 + k) % 495}.50"} for k in range(3)]}
            return client.request("POST", "/api/invoices/", body) == 201

        def page(client: PeerClient, n: int) -> bool:
            return client.request("GET", "/api/invoices/?page_size=50&page=1") == 200

        for clients in (1, 8):
            table[f"create 3 lines, {clients} client{'s' * (clients > 1)}"] = closed_loop(
                port, token, clients, create, SECONDS, client_class=PeerClient)
        for clients in (1, 8):
            table[f"page of 50, {clients} client{'s' * (clients > 1)}"] = closed_loop(
                port, token, clients, page, SECONDS, client_class=PeerClient)
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    return table
