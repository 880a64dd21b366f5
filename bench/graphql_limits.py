"""GraphQL limits benchmark: the CPU it costs to answer or refuse the worst query texts.

``python -m bench limits`` (``python -m bench`` runs it last; ``python -m bench.graphql_limits``
also works). No database, no Django: ``readapi.limits.parse_and_check`` on its own, as
``POST /graphql/`` runs it first, before authentication and throttles. API.md promises that no
query text of any shape costs more than a few milliseconds to refuse; the tests count the work
(tests/readapi/test_limits_bounded.py), this prints the time.

Each shape is checked ``REPEATS`` times after a warm-up; the CPU time of this thread
(``time.thread_time``, not wall-clock, so other processes on the machine count less), median
and maximum, in milliseconds. The shapes: the issue's (fragment chains that spread the next
fragment twice, 2^40 paths; a mebibyte of tokens; 60 aliases), those that reach each parser
bound (tokens, comments, length, nesting), and, for scale, queries that are answered.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

from graphql import get_introspection_query, version

from readapi.limits import (
    MAX_COMMENTS,
    MAX_FIELDS,
    MAX_QUERY_LENGTH,
    MAX_TOKENS,
    parse_and_check,
)

REPEATS = 50
MEBIBYTE = 1024 * 1024


def chain(count: int, *, leaf: str = "a", cyclic: bool = False) -> str:
    """``count`` fragments, each spreading the next twice: 2^count paths to the last one."""
    definitions = []
    for i in range(count):
        after = f"F{(i + 1) % count}" if cyclic else f"F{i + 1}"
        definitions.append(f"fragment F{i} on Query {{ ...{after} ...{after} }}")
    if not cyclic:
        definitions.append(f"fragment F{count} on Query {{ {leaf} }}")
    return "{ ...F0 } " + " ".join(definitions)


def page_query() -> str:
    from bench.read_side import PAGE_QUERY  # stdlib imports only at module level

    return PAGE_QUERY


SHAPES: list[tuple[str, Callable[[], str]]] = [
    ("2^40 chain, cyclic", lambda: chain(40, cyclic=True)),
    ("2^40 chain, unknown last fragment", lambda: chain(40, leaf="...Missing")),
    ("2^40 chain of aliased fields", lambda: chain(40, leaf="a: b c(first: 1000)")),
    ("1 MiB of tokens", lambda: "{ " + "a " * ((MEBIBYTE - 4) // 2) + "}"),
    ("60 aliases", lambda: "{ " + " ".join(f"a{i}: invoices {{ totalCount }}"
                                           for i in range(60)) + " }"),
    (f"{MAX_TOKENS + 1} tokens, fields", lambda: "{" + " a" * (MAX_TOKENS - 1) + " }"),
    (f"{MAX_TOKENS + 1} tokens, directives", lambda: "{ a" + " @d" * (MAX_TOKENS // 2) + " }"),
    (f"{MAX_TOKENS + 1} tokens, a list", lambda: "{ a(x: [" + "1 " * (MAX_TOKENS - 8) + "]) }"),
    (f"{MAX_COMMENTS + 1} comments", lambda: "{ a }" + "\n#" * (MAX_COMMENTS + 1)),
    (f"a string of {MAX_QUERY_LENGTH // 1024} KiB",
     lambda: '{ a(x: "' + "x" * (MAX_QUERY_LENGTH - 12) + '") }'),
    (f"{MAX_QUERY_LENGTH // 1024} KiB of blanks", lambda: "{ a }" + " " * (MAX_QUERY_LENGTH - 5)),
    ("201 nested selection sets", lambda: "{" + "a {" * 200 + "a" + "}" * 201),
    ("first: 30,000 digits", lambda: "{ a(first: " + "9" * 30_000 + ") }"),
    (f"{MAX_FIELDS} fields, the most answered",
     lambda: "{ invoices { edges { node { " + "id " * (MAX_FIELDS - 3) + "} } } }"),
    ("page of 50 invoices, every field", page_query),
    ("graphql-core's introspection query", lambda: get_introspection_query(descriptions=True)),
]


def measure(query: str) -> tuple[str, float, float]:
    """The answer's error codes (or "answered"), median and maximum CPU milliseconds."""
    _, errors = parse_and_check(query, None)  # warm-up
    spent = []
    for _ in range(REPEATS):
        started = time.thread_time()
        parse_and_check(query, None)
        spent.append((time.thread_time() - started) * 1000)
    answer = ",".join(dict.fromkeys(e.extensions["code"] for e in errors)) or "answered"
    return answer, statistics.median(spent), max(spent)


def main() -> None:
    """Measure every shape and print one line each."""
    print(f"machine: nproc={os.cpu_count()}, Python {platform.python_version()}, "
          f"graphql-core {version}, {platform.platform()}")
    print(f"GraphQL limits: CPU of parse_and_check, {REPEATS} runs a shape after a warm-up")
    print(f"{'shape':<38} {'bytes':>9} {'answer':<50} {'p50 ms':>7} {'max ms':>7}")
    worst = 0.0
    for label, build in SHAPES:
        query = build()
        answer, median, most = measure(query)
        worst = max(worst, most)
        print(f"{label:<38} {len(query.encode()):>9} {answer:<50} {median:>7.2f} {most:>7.2f}")
    print(f"worst: {worst:.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
