"""Early pytest plugin: point the suite at the real PostgreSQL and Redis when they answer.

Loaded with ``-p tests.services`` (pyproject), before Django's settings are read, so it can
still choose ``DATABASE_URL`` and ``REDIS_URL``. Without PostgreSQL the suite runs on SQLite
and skips the tests marked ``postgres``; the summary says what was skipped. With ``CI=true``
a missing service is an error, not a skip.

``NEXUS_TEST_FORCE_SQLITE=1`` runs on the embedded SQLite even when PostgreSQL answers (and is
not an error in CI): tests/readapi/test_money_exactness.py uses it to run its own module again
on SQLite, in a child pytest, from inside the PostgreSQL run.
"""

from __future__ import annotations

import os
import socket
import tempfile
from urllib.parse import urlparse

import pytest

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nexus"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def _answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 1):
            return True
    except OSError:
        return False


def _choose(variable: str, test_variable: str, default: str) -> bool:
    # The test variable first: the development stack sets both, and its DATABASE_URL and
    # REDIS_URL are the ones its running worker uses (the suite flushes the Redis it is given).
    url = os.environ.get(test_variable) or os.environ.get(variable) or default
    if url and _answers(url):
        os.environ[variable] = url
        return True
    os.environ.pop(variable, None)
    return False


FORCE_SQLITE = os.environ.get("NEXUS_TEST_FORCE_SQLITE", "").lower() in {"1", "true", "yes"}
if FORCE_SQLITE:
    os.environ.pop("DATABASE_URL", None)
HAVE_POSTGRES = not FORCE_SQLITE and _choose(
    "DATABASE_URL", "NEXUS_TEST_DATABASE_URL", DEFAULT_DATABASE_URL
)
HAVE_REDIS = _choose("REDIS_URL", "NEXUS_TEST_REDIS_URL", DEFAULT_REDIS_URL)
os.environ["NEXUS_CACHE_PREFIX"] = "nexus-test"
os.environ.setdefault("NEXUS_VAR_DIR", tempfile.mkdtemp(prefix="nexus-test-"))
os.environ.setdefault(
    "NEXUS_EVENT_STORE_SQLITE", os.path.join(os.environ["NEXUS_VAR_DIR"], "events.sqlite3")
)
os.environ["NEXUS_SEED_DEMO"] = "false"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
# The suite makes thousands of requests from 127.0.0.1; throttle tests set their own rates.
for _scope in ("ANON", "USER", "LOGIN"):
    os.environ.setdefault(f"NEXUS_THROTTLE_{_scope}", "1000000/day")

_skipped: dict[str, int] = {"postgres": 0, "redis": 0}


def pytest_configure(config: pytest.Config) -> None:
    if (os.environ.get("CI", "").lower() == "true" and not FORCE_SQLITE
            and not (HAVE_POSTGRES and HAVE_REDIS)):
        raise pytest.UsageError(
            f"CI needs PostgreSQL and Redis: postgres={HAVE_POSTGRES} redis={HAVE_REDIS}"
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = (os.environ["DATABASE_URL"] if HAVE_POSTGRES
                else "SQLite (NEXUS_TEST_FORCE_SQLITE)" if FORCE_SQLITE
                else "NOT reachable: SQLite")
    redis = os.environ["REDIS_URL"] if HAVE_REDIS else "NOT reachable: local memory"
    return [f"nexus: PostgreSQL {database}", f"nexus: Redis {redis}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for service, present in (("postgres", HAVE_POSTGRES), ("redis", HAVE_REDIS)):
            if item.get_closest_marker(service) and not present:
                _skipped[service] += 1
                item.add_marker(pytest.mark.skip(reason=f"{service} is not reachable"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for service, count in _skipped.items():
        if count:
            terminalreporter.write_line(
                f"nexus: {count} tests skipped because {service} did not answer; start it "
                "(see README) to run the whole suite.", yellow=True, bold=True,
            )
