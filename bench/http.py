"""Nexus over HTTP next to its anchors, in one sitting: ``make bench-http``.

Starts gunicorn with the repository's own ``gunicorn.conf.py`` and a Celery worker (with
beat) on a scratch database (``nexus_bench_http``, dropped and made anew), then measures with
closed-loop clients on keep-alive connections (one connection per client thread):

- create an invoice with 3 lines, 1 and 8 clients;
- add a line, 1 and 8 clients;
- approve a submitted invoice, 1 and 8 clients;
- the GraphQL page of 50 invoices with every nested field, 1 and 8 clients;
- projection lag (command answered -> its position in the read tables) at fixed rates;

and in the same sitting the anchors: pgbench inserting one event-sized row per transaction
(1 and 8 clients), and the eventsourcing library appending an invoice with 3 lines in one
transaction (1 and 4 threads, no web layer). It prints one table with the ratios, writes it
to ``artifacts/bench-http.json``, and with py-spy installed saves a profile of a gunicorn
worker during the 1-client create run to ``artifacts/profile-create.svg``.

``BENCH_SECONDS`` (default 12) sets each closed-loop run's length.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
ARTIFACTS = BASE_DIR / "artifacts"
DATABASE = os.environ.get("NEXUS_BENCH_HTTP_DATABASE", "nexus_bench_http")
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
REDIS_URL = os.environ.get("NEXUS_BENCH_HTTP_REDIS_URL", "redis://127.0.0.1:6379/3")
SECONDS = float(os.environ.get("BENCH_SECONDS", "12"))
LAG_RATES = (20, 50, 100)
PAGE = """query($first:Int){ invoices(first:$first){ totalCount edges{ node{ id number status
 currency total balanceDue isOverdue client{ id name email } owner{ id username }
 lines{ id description quantity unitPrice taxRate netAmount } taxBreakdown{ rate taxableAmount
 taxAmount } payments{ id amount paidOn } } } } }"""


def line(rnd: random.Random) -> dict[str, str]:
    """A line body like the shared load generator's."""
    return {"description": "Consulting", "quantity": str(rnd.randint(1, 9)),
            "unit_price": f"{rnd.randint(5, 500)}.50", "tax_rate": rnd.choice(["0", "7", "19"])}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


# --- the scratch database and its people ---------------------------------------------------------

def psql(sql: str, dbname: str = "postgres") -> None:
    subprocess.run(["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", dbname,
                    "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def server_env(**extra: str) -> dict[str, str]:
    """The environment of every Nexus process of the benchmark."""
    return {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": REDIS_URL, "NEXUS_CACHE_PREFIX": "nexus-bench-http", "DEBUG": "false",
            "NEXUS_SEED_DEMO": "false", "NEXUS_THROTTLE_USER": "100000000/day",
            "NEXUS_THROTTLE_ANON": "100000000/day", "NEXUS_THROTTLE_LOGIN": "100000/minute",
            "NEXUS_VAR_DIR": tempfile.mkdtemp(prefix="nexus-bench-http-"),
            "PYTHONUNBUFFERED": "1", **extra}


SETUP = """
from decimal import Decimal
from commands import clients, invoices
from events.access import Caller
from nexus.accounts.models import AccessToken, Team, User
team = Team.objects.create(name="Bench")
def person(name, role):
    user = User.objects.create_user(username=name, email=f"{name}@bench.example",
                                    password="bench-pass-123", role=role, team=team)
    return user
owner, manager = person("owner", "user"), person("manager", "manager")
admin = person("admin", "admin")
team.managers.add(manager)
client = clients.client_register(caller=Caller.from_user(manager),
                                 fields={"name": "Bench GmbH", "email": "ap@bench.example"}).id
lines = [{"description": "Hours", "quantity": Decimal(3), "unit_price": Decimal("120.00"),
          "tax_rate": Decimal(19)}] * 3
submitted = []
for _ in range(int(__import__("os").environ["BENCH_SUBMITTED"])):
    invoice = invoices.invoice_create(caller=Caller.from_user(owner), client_id=client,
                                      currency="EUR", lines=lines).id
    invoices.invoice_submit(invoice_id=invoice, caller=Caller.from_user(owner))
    submitted.append(str(invoice))
print(__import__("json").dumps({"client": str(client), "submitted": submitted,
    "owner": AccessToken.issue(owner), "manager": AccessToken.issue(manager),
    "admin": AccessToken.issue(admin)}))
"""


def prepare(submitted: int) -> dict[str, Any]:
    """A fresh database, migrated, with people, tokens, a client and submitted invoices."""
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DATABASE}"')
    env = server_env(BENCH_SUBMITTED=str(submitted))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BASE_DIR,
                   env=env, check=True)
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", SETUP], cwd=BASE_DIR,
                          env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the processes -----------------------------------------------------------------------------

@contextmanager
def running(argv: list[str], env: dict[str, str], log: Path,
            ready: Callable[[], bool] | None = None,
            cwd: Path = BASE_DIR) -> Iterator[subprocess.Popen[bytes]]:
    """Start a process group; wait for ``ready``; always stop it."""
    with log.open("wb") as output:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while ready is not None and not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0:3]} did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)  # polling the process's socket until it answers
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def answers(port: int, path: str = "/healthz") -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", path)
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


# --- closed-loop clients -----------------------------------------------------------------------

class Client:
    """One keep-alive connection with a Bearer token."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        self.connection.request("POST", path, body=json.dumps(body or {}), headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}


def closed_loop(port: int, token: str, clients: int, work: Callable[[Any, int], bool],
                seconds: float = SECONDS, client_class: type = Client) -> dict[str, Any]:
    """``clients`` threads calling ``work`` back to back for ``seconds``; rate and latencies."""
    results: list[list[tuple[float, bool]]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def run(index: int) -> None:
        client = client_class(port, token)
        start.wait()
        step = 0
        while (begin := time.perf_counter()) < stop_at[0]:
            ok = work(client, index * 1_000_000 + step)
            results[index].append((time.perf_counter() - begin, ok))
            step += 1
        client.connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    good = [duration for run in results for duration, ok in run if ok]
    errors = sum(1 for run in results for _, ok in run if not ok)
    return {"clients": clients, "ok": len(good), "errors": errors,
            "per_s": len(good) / elapsed, "p50_ms": percentile(good, 50) * 1000,
            "p99_ms": percentile(good, 99) * 1000}


# --- projection lag ------------------------------------------------------------------------------

def lag_at(port: int, token: str, client_id: str, rate: int, seconds: float = 10) -> dict[str, Any]:
    """Commands at a fixed rate; for each, the time from its answer until the read tables hold
    its position (read straight from PostgreSQL every millisecond)."""
    import psycopg

    answered: list[tuple[int, float]] = []
    seen: dict[int, float] = {}
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(dbname=DATABASE, **PG, autocommit=True) as conn:
            while not done.is_set() or len(seen) < len(answered):
                row = conn.execute("SELECT position FROM projections_projectiontracking "
                                   "WHERE name = 'main'").fetchone()
                now = time.perf_counter()
                position = row[0] if row else 0
                for pos, _ in answered:
                    if pos <= position and pos not in seen:
                        seen[pos] = now
                if done.is_set() and time.perf_counter() > stop_watch[0]:
                    return
                time.sleep(0.001)

    stop_watch = [float("inf")]
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    client = Client(port, token)
    rnd = random.Random(rate)
    interval = 1 / rate
    next_at = time.perf_counter()
    end = next_at + seconds
    late = 0
    while next_at < end:
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            late += 1
        status, body = client.post("/api/v1/invoices/", {"client_id": client_id, "currency": "EUR",
                                                         "lines": [line(rnd)]})
        if status == 201:
            answered.append((body["position"], time.perf_counter()))
        next_at += interval
    done.set()
    stop_watch[0] = time.perf_counter() + 10
    watcher.join(timeout=15)
    lags = [(seen[pos] - at) * 1000 for pos, at in answered if pos in seen]
    return {"rate": rate, "commands": len(answered), "late_sends": late,
            "unseen": len(answered) - len(lags),
            "p50_ms": percentile(lags, 50), "p99_ms": percentile(lags, 99)}


# --- anchors -------------------------------------------------------------------------------------

PG_INSERT = ("INSERT INTO raw_events (originator_id, originator_version, topic, state) VALUES "
             "(gen_random_uuid(), 1, 'invoices.domain:Invoice.LineAdded', "
             "decode(repeat('ab', 300), 'hex'));\n")


def pgbench(clients: int, seconds: float = 10) -> float:
    """PostgreSQL's own rate for one event-sized row inserted and committed per transaction."""
    psql("CREATE TABLE IF NOT EXISTS raw_events (originator_id uuid not null, originator_version "
         "bigint not null, topic text, state bytea, notification_id bigserial, "
         "primary key (originator_id, originator_version)); TRUNCATE raw_events", DATABASE)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PG_INSERT)
    done = subprocess.run(["pgbench", "-n", "-T", str(int(seconds)), "-c", str(clients), "-j",
                           str(clients), "-f", script.name, "-h", PG["host"], "-p", PG["port"],
                           "-U", PG["user"], DATABASE], capture_output=True, text=True, check=True)
    os.unlink(script.name)
    for text_line in done.stdout.splitlines():
        if text_line.startswith("tps = "):
            return float(text_line.split()[2])
    raise RuntimeError(done.stdout)


def library_append(threads: int, seconds: float = 10) -> float:
    """The eventsourcing library saving an invoice with 3 lines in one transaction (4 events):
    invoices per second, no web layer (bench/anchor_append.py, in its own process)."""
    done = subprocess.run([sys.executable, "-m", "bench.anchor_append", str(threads),
                           str(seconds)], cwd=BASE_DIR, capture_output=True, text=True,
                          check=True, env={**os.environ, "ES_DB": DATABASE, "ES_USER": "postgres"})
    return float(json.loads(done.stdout.strip().splitlines()[-1])["invoices_per_s"])


# --- the run ------------------------------------------------------------------------------------

def main() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix="nexus-bench-http-logs-"))
    setup = prepare(submitted=int(SECONDS * 400))
    port = free_port()
    env = server_env(WEB_CONCURRENCY="2", GUNICORN_BIND=f"127.0.0.1:{port}")
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                "nexus.wsgi:application"]
    worker = [sys.executable, "-m", "celery", "-A", "nexus.celery", "worker", "--beat",
              "--loglevel=WARNING", "--concurrency=1", "--schedule",
              str(Path(env["NEXUS_VAR_DIR"]) / "beat")]
    table: dict[str, Any] = {}
    with running(gunicorn, env, logs / "gunicorn.log", lambda: answers(port)) as web, \
            running(worker, env, logs / "worker.log"):
        client_id, submitted = setup["client"], list(setup["submitted"])

        def create(client: Client, n: int) -> bool:
            rnd = random.Random(n)
            status, _ = client.post("/api/v1/invoices/", {
                "client_id": client_id, "currency": "EUR", "lines": [line(rnd) for _ in range(3)]})
            return status == 201

        drafts: dict[int, str] = {}

        def add_line(client: Client, n: int) -> bool:
            thread = n // 1_000_000
            if thread not in drafts:
                drafts[thread] = client.post("/api/v1/invoices/", {
                    "client_id": client_id, "currency": "EUR"})[1]["id"]
            status, _ = client.post(f"/api/v1/invoices/{drafts[thread]}/lines/",
                                    line(random.Random(n)))
            return status == 201

        def approve(client: Client, n: int) -> bool:
            status, _ = client.post(f"/api/v1/invoices/{submitted.pop()}/approve/")
            return status == 200

        def page(client: Client, n: int) -> bool:
            status, body = client.post("/graphql/", {"query": PAGE, "variables": {"first": 50}})
            return status == 200 and "errors" not in body

        profile = start_profile(web.pid, logs)
        table["create 3 lines, 1 client"] = closed_loop(port, setup["owner"], 1, create)
        stop_profile(profile)
        table["create 3 lines, 8 clients"] = closed_loop(port, setup["owner"], 8, create)
        drafts.clear()
        table["add a line, 1 client"] = closed_loop(port, setup["owner"], 1, add_line)
        drafts.clear()
        table["add a line, 8 clients"] = closed_loop(port, setup["owner"], 8, add_line)
        table["approve, 1 client"] = closed_loop(port, setup["manager"], 1, approve)
        table["approve, 8 clients"] = closed_loop(port, setup["manager"], 8, approve)
        table["GraphQL page of 50, 1 client"] = closed_loop(port, setup["admin"], 1, page)
        table["GraphQL page of 50, 8 clients"] = closed_loop(port, setup["admin"], 8, page)
        lags = [lag_at(port, setup["owner"], client_id, rate) for rate in LAG_RATES]
    anchors = {"pgbench 1 client": pgbench(1), "pgbench 8 clients": pgbench(8),
               "library 1 thread": library_append(1), "library 4 threads": library_append(4)}
    from bench import original

    report(table, lags, anchors, original.measure())
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def start_profile(pid: int, logs: Path) -> subprocess.Popen[bytes] | None:
    """py-spy on the first gunicorn worker during the 1-client create run (if installed)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if not Path(spy).exists() or not children:
        return None
    return subprocess.Popen([spy, "record", "-p", children[0], "-o",
                             str(ARTIFACTS / "profile-create.svg"), "-d", str(int(SECONDS)),
                             "--nonblocking"], stdout=subprocess.DEVNULL,
                            stderr=(logs / "py-spy.log").open("wb"))


def stop_profile(profile: subprocess.Popen[bytes] | None) -> None:
    if profile is not None:
        try:
            profile.wait(timeout=30)
        except subprocess.TimeoutExpired:
            profile.kill()


def report(table: dict[str, Any], lags: list[dict[str, Any]], anchors: dict[str, float],
           peer: dict[str, Any] | None = None) -> None:
    """One table: each measurement beside its anchors (the library, the original), with ratios."""
    anchor_of = {
        "create 3 lines, 1 client": ("library 1 thread", anchors["library 1 thread"]),
        "create 3 lines, 8 clients": ("library 4 threads", anchors["library 4 threads"]),
    }
    peer_of = {"create 3 lines, 1 client": "create 3 lines, 1 client",
               "create 3 lines, 8 clients": "create 3 lines, 8 clients",
               "GraphQL page of 50, 1 client": "page of 50, 1 client",
               "GraphQL page of 50, 8 clients": "page of 50, 8 clients"}
    print(f"{'measurement':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}  anchors")
    for name, row in table.items():
        notes = []
        if name in anchor_of:
            label, value = anchor_of[name]
            notes.append(f"{label}: {value:.0f} invoices/s, ratio {row['per_s'] / value:.1%}")
        if peer and name in peer_of:
            other = peer[peer_of[name]]
            notes.append(f"original: {other['per_s']:.1f}/s p50 {other['p50_ms']:.1f} ms, "
                         f"rate {row['per_s'] / other['per_s']:.2f}x, "
                         f"p50 {row['p50_ms'] / other['p50_ms']:.2f}x of its")
        print(f"{name:<34} {row['per_s']:>8.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
              f"{row['errors']:>6}  {'; '.join(notes)}")
    if peer is None:
        print("the original project: not measured (set NEXUS_PEER_SRC and NEXUS_PEER_PYTHON; "
              "bench/original.py)")
    else:
        print(f"the original project: {peer['loaded']}")
    one, eight = table["create 3 lines, 1 client"], table["create 3 lines, 8 clients"]
    print(f"create scaling 8 clients / 1 client: {eight['per_s'] / one['per_s']:.2f}x; "
          f"p99 / p50 at 1 client: {one['p99_ms'] / one['p50_ms']:.2f}")
    for row in lags:
        print(f"projection lag at {row['rate']:>3}/s: p50 {row['p50_ms']:.1f} ms, p99 "
              f"{row['p99_ms']:.1f} ms ({row['commands']} commands, {row['unseen']} unseen, "
              f"{row['late_sends']} sent late)")
    for name, value in anchors.items():
        unit = "tps" if name.startswith("pgbench") else "invoices/s (4 events each)"
        print(f"anchor {name}: {value:.0f} {unit}")
    (ARTIFACTS / "bench-http.json").write_text(json.dumps(
        {"table": table, "lag": lags, "anchors": anchors, "original": peer}, indent=2,
        default=str))
    print(f"written to {ARTIFACTS / 'bench-http.json'}")


if __name__ == "__main__":
    main()
