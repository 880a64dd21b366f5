"""gunicorn's configuration for Nexus (the container's command and the live-server tests).

Threaded workers keep keep-alive clients cheap; each worker process holds at most
``NEXUS_DB_POOL_MAX`` PostgreSQL connections (the event store shares them), so the
connection budget is ``WEB_CONCURRENCY`` x that (README, "Deploying").

The app is loaded once in the master and forked (``preload_app``): workers start in
milliseconds and share the imported code's memory. That is safe because nothing opens a
database connection, a pool or a socket while the app loads: Django's pool, the event store's
application and the Redis clients are all created at first use, in the worker
(tests/deploy/test_container_commands.py checks that the master holds no connection).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota.

    ``os.cpu_count()`` counts the host's CPUs, so a container limited to 2 CPUs on a 64-core
    host would start 64 workers and 64 x 8 PostgreSQL connections.
    """
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = cpu_max.read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, -(-int(quota) // int(period))))  # rounded up
    except (OSError, ValueError):
        pass  # no cgroup v2 limit readable: the affinity mask it is
    return cpus


bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Two processes per usable core at least: the app is I/O-bound, threads serve keep-alive clients.
workers = int(os.environ.get("WEB_CONCURRENCY", "0") or 0) or max(2, available_cpus())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
preload_app = True
keepalive = 5
# A request running longer than this is killed with its worker (the client gets 502).
timeout = 30
# On SIGTERM (docker stop, a rollout) workers stop accepting and finish the requests they hold
# for up to this long; compose's stop_grace_period (35 s) leaves gunicorn time to do so.
graceful_timeout = 25
# The workers' heartbeat files on tmpfs: an overlay /tmp can stall them into false timeouts.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
# gc.freeze() in each new worker: the objects the master imported (Django, DRF, graphene, the
# schema) move to the permanent generation, so a full collection no longer walks them. The
# read side's p99 is mostly such collections; the commit that added this has the figures.
gc_freeze = os.environ.get("GUNICORN_GC_FREEZE", "true").strip().lower() in {
    "1", "true", "yes", "on"}


def when_ready(server: Any) -> None:
    """Import every view, the GraphQL schema and the URL patterns in the master, once.

    Workers inherit them (and freeze them) instead of each importing them at its first request.
    """
    if not server.cfg.preload_app:  # then the master has not even loaded Django
        return
    from django.urls import get_resolver

    _ = get_resolver().url_patterns  # resolving the patterns imports every view


def post_fork(server: Any, worker: Any) -> None:
    """Freeze what the worker inherited (see ``gc_freeze`` above)."""
    if gc_freeze:
        gc.freeze()
