"""Text from elsewhere (exceptions, services, IdPs) made fit for one line on a terminal.

Nothing a service sends reaches a terminal raw: control characters (an `ESC[2J`, an OSC title
or link) and invisible format characters (bidi overrides) become `?`.
"""

from __future__ import annotations

LIMIT = 200


def printable(text: object) -> str:
    """`text` with every character a terminal would act on, or not show, replaced by `?`."""
    value = str(text)
    return value if value.isprintable() else "".join(ch if ch.isprintable() else "?" for ch in value)


def first_line(text: object, limit: int = LIMIT) -> str:
    """The first non-empty line of `text`, printable, cut to `limit` characters ("" for nothing)."""
    lines = str(text or "").strip().splitlines()
    line = printable(lines[0].strip()) if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_exception(exc: BaseException, limit: int = 160) -> str:
    """`Kind: first line of the message`, or just the kind when it says nothing."""
    line = first_line(exc, limit)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__
