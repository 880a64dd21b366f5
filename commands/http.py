"""HTTP details shared by the command views: ``If-Match`` and ``ETag``."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def expected_version(request: Any) -> int | None:
    """The version pinned by ``If-Match`` (``"3"``, ``W/"3"`` or ``3``), or ``None``."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() in ("", "*"):
        return None
    match = _IF_MATCH.match(header)
    if match is None:
        raise ValidationError({"If-Match": ['Expected a version such as "3".']})
    return int(match.group(1))


def etag(version: int) -> str:
    """The strong ETag of an aggregate version."""
    return f'"{version}"'
