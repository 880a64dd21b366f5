"""``python manage.py rebuild_projections``: replay the whole store into fresh read tables."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from projections.rebuild import REBUILD_BATCH, rebuild


class Command(BaseCommand):
    """Rebuild every read table from the event store and switch over without downtime."""

    help = "Replay the event store into fresh read tables, then swap them in atomically."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=REBUILD_BATCH)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        position = rebuild(batch_size=options["batch_size"], report=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(
            f"Rebuilt the read tables up to position {position} "
            f"in {time.monotonic() - started:.1f} s."))
