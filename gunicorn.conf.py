"""gunicorn's configuration for Nexus (the container's command and the live-server tests).

Threaded workers keep keep-alive clients cheap; each worker process holds at most
``NEXUS_DB_POOL_MAX`` + ``NEXUS_EVENT_STORE_POOL_MAX`` PostgreSQL connections, so the
connection budget is ``WEB_CONCURRENCY`` x that sum (docs/security.md).
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Two processes per core is plenty for an I/O-bound app; threads serve keep-alive clients.
workers = int(os.environ.get("WEB_CONCURRENCY", "0") or 0) or max(2, multiprocessing.cpu_count())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
timeout = 30
graceful_timeout = 30
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
