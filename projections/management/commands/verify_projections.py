"""``python manage.py verify_projections``: compare the live read tables with a fresh replay."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from projections.rebuild import verify


class Command(BaseCommand):
    """Exit status 1 when any row differs."""

    help = "Rebuild every projection into shadow tables and compare them row by row."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify()
        for difference in result.differences:
            self.stdout.write(f"DIFF {difference}")
        summary = (f"Compared {result.rows_compared} rows at position {result.position}: "
                   f"{len(result.differences)} differences.")
        if result.differences:
            self.stdout.write(self.style.ERROR(summary))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(summary))
