"""Query texts of the shapes the limits must refuse cheaply (plain strings: no Django)."""

from __future__ import annotations


def chain(count: int, spreads: int = 2, *, leaf: str = "a", cyclic: bool = False) -> str:
    """``count`` fragments, each spreading the next ``spreads`` times: ``spreads**count`` paths
    to the last one, whose selection is ``leaf`` (or, ``cyclic``, back to the first)."""
    definitions = []
    for i in range(count):
        after = f"F{(i + 1) % count}" if cyclic else f"F{i + 1}"
        definitions.append(f"fragment F{i} on Query {{ {f'...{after} ' * spreads}}}")
    if not cyclic:
        definitions.append(f"fragment F{count} on Query {{ {leaf} }}")
    return "{ ...F0 } " + " ".join(definitions)


def ring(count: int) -> str:
    """A cycle of ``count`` fragments, each spreading the next once."""
    return "{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{(i + 1) % count} }}"
                                   for i in range(count))


def list_of_tokens(count: int) -> str:
    """A valid query of exactly ``count`` tokens, all but nine of them in one list argument."""
    return "{ a(x: [" + "1 " * (count - 9) + "]) }"


def nested(levels: int) -> str:
    """Selection sets nested ``levels`` deep in the text."""
    return "{" + "a {" * (levels - 1) + "a" + "}" * levels
