"""Split values across several keyring entries where the platform caps their size.

Windows Credential Manager holds at most 2,560 bytes (1,280 UTF-16 characters) per secret,
and a session token plus keys can exceed that. A long value is stored as parts
`KEY/1` … `KEY/N` and a head entry `chunks N CRC`; the head is written last, and a head
whose parts do not add up to its checksum reads as absent, so a reader never sees a mix.
"""

from __future__ import annotations

import sys
import zlib

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs ~15 ms here
if TYPE_CHECKING:
    from collections.abc import Callable

WINDOWS_CHUNK = 1200  # characters, under Credential Manager's 1,280


def platform_chunk_size(configured: int) -> int:
    """The chunk size in force: the configured one, else the platform's need (0: no split)."""
    if configured:
        return configured
    return WINDOWS_CHUNK if sys.platform == "win32" else 0


def split(key: str, value: str, size: int) -> tuple[str, list[tuple[str, str]]]:
    """The head value and the (part key, part value) pairs to write before it."""
    if not size or len(value) <= size:
        return value, []
    parts = [value[i : i + size] for i in range(0, len(value), size)]
    head = f"chunks {len(parts)} {_crc(value)}"
    return head, [(f"{key}/{n}", part) for n, part in enumerate(parts, start=1)]


def join(key: str, head: str | None, read: Callable[[str], str | None]) -> str | None:
    """The whole value behind `head`, reading parts with `read`; None if incomplete."""
    if head is None or not head.startswith("chunks "):
        return head
    fields = head.split(" ")
    if len(fields) != 3 or not fields[1].isdigit() or not 0 < int(fields[1]) <= 64:
        return None
    parts = [read(f"{key}/{n}") for n in range(1, int(fields[1]) + 1)]
    if any(part is None for part in parts):
        return None
    value = "".join(parts)  # type: ignore[arg-type]
    return value if _crc(value) == fields[2] else None


def part_keys(key: str, head: str | None) -> list[str]:
    """The part entries a head refers to (for deletion)."""
    if head is None or not head.startswith("chunks "):
        return []
    count = head.split(" ")[1]
    return [f"{key}/{n}" for n in range(1, int(count) + 1)] if count.isdigit() else []


def _crc(value: str) -> str:
    return f"{zlib.crc32(value.encode()):08x}"
