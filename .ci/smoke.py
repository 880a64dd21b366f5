#!/usr/bin/env python3
"""Smoke test of a running Nexus, from outside: the standard library only.

    python3 .ci/smoke.py BASE_URL [--username admin] [--password nexus-demo-2026]

/healthz and /readyz answer 200; the user logs in; one command (a client registered) is
answered 201; one GraphQL query reads that client back once the projection has it (the
command's position is sent as X-Min-Position; with a Celery worker the read side follows a
moment later, so the query is repeated until it does, for at most --wait seconds). Used by
.ci/run against `make run`, and by .ci/compose-smoke against both compose stacks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any
from uuid import uuid4

QUERY = "query($id: UUID!) { client(id: $id) { id name email } projectionStatus { position lag } }"


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         ) -> tuple[int, Any]:
    """One request; the status and the decoded JSON answer (``None`` when there is none)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - ours
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw[:500]


def check(condition: bool, message: str, answer: Any = None) -> None:
    if not condition:
        sys.exit(f"SMOKE FAILED: {message}" + (f": {answer}" if answer is not None else ""))
    print(f"ok  {message}")


def main() -> None:
    """Run the checks; exit non-zero, saying which failed, at the first failure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="nexus-demo-2026")
    parser.add_argument("--wait", type=float, default=60, help="seconds for the read side")
    options = parser.parse_args()
    base = options.base.rstrip("/")

    status, answer = call("GET", f"{base}/healthz")
    check(status == 200, "/healthz answers 200", answer)
    status, answer = call("GET", f"{base}/readyz")
    check(status == 200, "/readyz answers 200", answer)
    status, answer = call("POST", f"{base}/api/v1/auth/login/",
                          {"username": options.username, "password": options.password})
    check(status == 200 and bool(answer.get("token")), f"{options.username} logs in", answer)
    auth = {"Authorization": f"Bearer {answer['token']}"}

    name = f"Smoke {uuid4().hex[:8]} GmbH"
    status, answer = call("POST", f"{base}/api/v1/clients/",
                          {"name": name, "email": "smoke@example.com"}, auth)
    check(status == 201, "a command (POST /api/v1/clients/) answers 201", answer)
    client_id, position = answer["id"], answer["position"]

    deadline = time.monotonic() + options.wait
    while True:
        status, answer = call("POST", f"{base}/graphql/",
                              {"query": QUERY, "variables": {"id": client_id}},
                              {**auth, "X-Min-Position": str(position)})
        found = status == 200 and (answer.get("data") or {}).get("client")
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # the worker projects the command's events meanwhile
    check(bool(found) and found["name"] == name, "a query (GraphQL client) reads it back", answer)
    print(f"smoke passed against {base}")


if __name__ == "__main__":
    main()
