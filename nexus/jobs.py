"""Queueing the document tasks (PDF renders, exports): a Celery message, or the work now.

Like ``nexus.dispatch``, a message is a hint: the caller keeps the state in the database
(``readapi.models``), so a lost message only delays the work until it is asked for again.
Without workers (the embedded mode) the work runs in the request itself.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

RENDER_PDF_TASK = "workers.documents.render_invoice_pdf"
EXPORT_TASK = "workers.documents.run_export"


def has_workers() -> bool:
    """Whether Celery workers take the tasks (else the caller does the work itself)."""
    return settings.NEXUS_PROJECTION_MODE != "inline"


def send(task: str, **kwargs: Any) -> bool:
    """Queue ``task``; ``False`` when the broker could not take it (the caller decides)."""
    from nexus.celery import app

    try:
        app.send_task(task, kwargs=kwargs)
    except Exception:  # a broker that is down must not fail the request
        logger.warning("Could not queue %s %s.", task, kwargs, exc_info=True)
        return False
    return True
