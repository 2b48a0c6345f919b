"""Text from elsewhere (exceptions, services) made fit for one line on stderr."""

from __future__ import annotations

LIMIT = 200


def first_line(text: object, limit: int = LIMIT) -> str:
    """The first non-empty line of `text`, cut to `limit` characters ("" for nothing)."""
    lines = str(text or "").strip().splitlines()
    line = lines[0].strip() if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_exception(exc: BaseException, limit: int = 160) -> str:
    """`Kind: first line of the message`, or just the kind when it says nothing."""
    line = first_line(exc, limit)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__
