"""Does ``gc.freeze()`` after fork shorten the read side's p99? (gunicorn.conf.py's post_fork)

``python -m bench.gc_freeze`` (from the project root, in the venv) fills ``DATABASE_URL``
(default ``postgres://postgres@127.0.0.1:5432/nexus_bench_gc``, created if missing) with
``--invoices`` invoices from events, projected, then serves it with gunicorn and the repository's
gunicorn.conf.py (2 workers, DEBUG off, local-memory cache, in-process projection), with
``GUNICORN_GC_FREEZE`` false and true in alternating rounds, so the machine's noise falls on
both alike. Each round: ``--clients`` keep-alive clients on 127.0.0.1 request the heaviest
invoice page (50 invoices, every field, bench.read_side's query) in a closed loop for
``--seconds``, after a warm-up. It prints p50/p90/p99/max per setting, and the full (gen-2)
collections the workers ran with their total and longest pause, which a gc callback records.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.__main__ import connection_args, empty_event_store, ensure_database
from bench.read_side import PAGE_QUERY, PAGE_SIZE, History, empty_read_tables

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nexus_bench_gc"
# The repository's configuration plus a gc callback that times every gen-2 collection and
# prints the totals when the worker exits.
INSTRUMENTED_CONFIG = """
exec(compile(open({config!r}).read(), {config!r}, "exec"))
_configured_post_fork = post_fork


def post_fork(server, worker):
    _configured_post_fork(server, worker)
    import gc
    import time

    started = []
    pauses = worker.gen2_pauses = []

    def timer(phase, info):
        if info["generation"] == 2:
            if phase == "start":
                started[:] = [time.perf_counter()]
            elif started:
                pauses.append(time.perf_counter() - started[0])

    gc.callbacks.append(timer)


def worker_exit(server, worker):
    import gc
    import sys

    pauses = getattr(worker, "gen2_pauses", [])
    print(f"GEN2 count={{len(pauses)}} total_ms={{sum(pauses) * 1e3:.1f}} "
          f"max_ms={{max(pauses, default=0) * 1e3:.1f}} frozen={{gc.get_freeze_count()}}",
          file=sys.stderr, flush=True)
"""


def prepare(invoices: int) -> str:
    """The database with ``invoices`` invoices projected; returns an admin's token."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["REDIS_URL"] = ""
    os.environ["DJANGO_SETTINGS_MODULE"] = "nexus.settings"
    ensure_database(connection_args(os.environ["DATABASE_URL"]))
    import django

    django.setup()
    from django.core.management import call_command

    from events.application import get_application
    from nexus.accounts.models import AccessToken, User
    from projections import projector
    from projections.models import InvoiceRow

    call_command("migrate", verbosity=0)
    if InvoiceRow.objects.count() != invoices:
        app = get_application()
        empty_event_store(app)
        empty_read_tables()
        history = History(app)
        history.generate(until=lambda: history.invoices >= invoices)
        assert projector.catch_up().error is None
    admin, _ = User.objects.get_or_create(username="bench-admin",
                                          defaults={"role": "admin", "email": "a@bench.example"})
    return AccessToken.issue(admin)


def serve(freeze: bool, port: int, config: Path, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn with the instrumented configuration; returns once it answers."""
    env = {**os.environ, "GUNICORN_GC_FREEZE": str(freeze).lower(), "WEB_CONCURRENCY": "2",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "DEBUG": "false", "REDIS_URL": "",
           "NEXUS_THROTTLE_USER": "100000000/day", "NEXUS_THROTTLE_ANON": "100000000/day"}
    with log.open("wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", str(config),
                                   "nexus.wsgi:application"], cwd=ROOT, env=env,
                                  stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)  # polling until the server listens
    server.terminate()
    raise RuntimeError(log.read_text()[-2000:])


def load(port: int, token: str, clients: int, seconds: float) -> list[float]:
    """Closed-loop clients, one keep-alive connection each; the latencies of good answers."""
    body = json.dumps({"query": PAGE_QUERY, "variables": {"first": PAGE_SIZE}})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.monotonic() < stop:
            begin = time.perf_counter()
            connection.request("POST", "/graphql/", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            assert response.status == 200 and b'"errors"' not in answer, answer[:300]
            mine.append(time.perf_counter() - begin)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.gc_freeze", description=__doc__)
    parser.add_argument("--invoices", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=18765)
    options = parser.parse_args()
    token = prepare(options.invoices)
    results: dict[bool, dict[str, list[float]]] = {
        freeze: {"latency": [], "gen2": [], "gen2_ms": [], "gen2_max": []}
        for freeze in (False, True)}
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "gunicorn.bench.py"
        config.write_text(INSTRUMENTED_CONFIG.format(config=str(ROOT / "gunicorn.conf.py")))
        for _round in range(options.rounds):
            for freeze in (False, True):
                log = Path(scratch) / f"gunicorn-{freeze}.log"
                server = serve(freeze, options.port, config, log)
                try:
                    load(options.port, token, options.clients, 5)  # warm-up, not counted
                    results[freeze]["latency"] += load(options.port, token, options.clients,
                                                       options.seconds)
                finally:
                    server.terminate()
                    server.wait(timeout=60)
                for match in re.finditer(r"GEN2 count=(\d+) total_ms=([\d.]+) max_ms=([\d.]+)",
                                         log.read_text()):
                    results[freeze]["gen2"].append(int(match[1]))
                    results[freeze]["gen2_ms"].append(float(match[2]))
                    results[freeze]["gen2_max"].append(float(match[3]))
    print(f"machine: nproc={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; "
          f"{options.invoices} invoices, {options.clients} clients, 2 gthread workers, "
          f"{options.rounds} x {options.seconds:.0f} s per setting")
    for freeze, figures in results.items():
        values = sorted(figures["latency"])
        cuts = statistics.quantiles(values, n=100)
        print(f"gc.freeze {'on ' if freeze else 'off'}: {len(values)} pages, "
              f"{len(values) / (options.rounds * options.seconds):.1f}/s, "
              f"p50 {cuts[49] * 1e3:.0f} ms, p90 {cuts[89] * 1e3:.0f} ms, "
              f"p99 {cuts[98] * 1e3:.0f} ms, max {values[-1] * 1e3:.0f} ms; "
              f"gen-2 collections {sum(figures['gen2'])}, "
              f"{sum(figures['gen2_ms']):.0f} ms in all, "
              f"longest {max(figures['gen2_max'], default=0):.0f} ms")


if __name__ == "__main__":
    main()
