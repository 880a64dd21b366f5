"""Optimistic concurrency for the handlers: the version a client pinned, and retries.

A handler decorated with :func:`retry_on_conflict` runs again from fresh state when another
writer appended to the same aggregate first (ARCHITECTURE.md rule 4); a version pinned with
``If-Match`` that the aggregate has moved past is a :class:`PreconditionFailed` (412) at once.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

RETRY_SECONDS = 10.0
_P = ParamSpec("_P")
_R = TypeVar("_R")


class PreconditionFailed(Exception):
    """``If-Match`` named a version the aggregate has moved past (412)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"The resource is at version {actual}, not {expected}.")
        self.expected = expected
        self.actual = actual


def check_version(aggregate: Aggregate, expected_version: int | None) -> None:
    """Refuse to act on an aggregate that is not at the version the client saw."""
    if expected_version is not None and aggregate.version != expected_version:
        raise PreconditionFailed(expected_version, aggregate.version)


def retry_on_conflict(handler: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``handler`` again when another writer appended first.

    Bounded by time rather than a count: under a burst of approvals (one shared number
    sequence) a writer may lose many rounds in a row, and each round is short. The backoff is
    jittered, so writers racing for one aggregate spread out.
    """

    @functools.wraps(handler)
    def with_retries(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            attempt += 1
            try:
                return handler(*args, **kwargs)
            except IntegrityError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0, 0.002 * min(attempt, 5)))

    return with_retries
