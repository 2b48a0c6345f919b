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


def time_left(seconds: float) -> str:
    """`42 min left`, or for a time already past `expired 3 h ago` (never a negative count)."""
    if seconds > 0:
        return f"{seconds / 60:.0f} min left"
    return f"expired {_span(-seconds)} ago"


def _span(seconds: float) -> str:
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
