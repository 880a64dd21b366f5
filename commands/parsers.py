"""JSON parsing that keeps numbers exact."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    """Parses JSON numbers with a fraction as ``Decimal``, never ``float``.

    A client that sends ``19.99`` instead of ``"19.99"`` still gets exactly 19.99.
    """

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(stream.read().decode(encoding), parse_float=Decimal,
                              parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"JSON parse error - {error}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
