"""Set one table of a TOML settings file, keeping the rest of the file as the user wrote it.

Only flat tables of strings and integers are written. The new text is parsed back before it is
used: if the table was not where a plain text edit can reach it (dotted keys, an inline table),
the edit is refused with ConfigError rather than written wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cred_export.errors import ConfigError


def render_table(name: str, values: dict[str, str | int], newline: str = "\n") -> str:
    """`[name]` and one `key = value` line per value (strings as TOML basic strings)."""
    lines = [f"[{name}]"]
    for key, value in values.items():
        # JSON's string escapes are TOML basic-string escapes; ensure_ascii keeps it one line.
        rendered = str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=True)
        lines.append(f"{key} = {rendered}")
    return newline.join(lines) + newline


def with_table(text: str, name: str, values: dict[str, str | int], where: str) -> str:
    """`text` with table `name` replaced by `values` (appended when absent); checked by parsing."""
    before = parse(text, where)
    lines = text.splitlines(keepends=True)
    header = re.compile(rf"\s*\[\s*{re.escape(name)}\s*\]\s*(#.*)?\r?\n?")
    start = next((i for i, line in enumerate(lines) if header.fullmatch(line)), None)
    newline = "\r\n" if "\r\n" in text else "\n"  # the file's own line ends
    table = render_table(name, values, newline)
    if start is None:
        separator = "" if not text else (newline if text.endswith("\n") else newline * 2)
        new_text = text + separator + table
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
        tail = lines[end:]
        new_text = "".join(lines[:start]) + table + (newline if tail else "") + "".join(tail)
    refused = ConfigError(f"cannot set [{name}] in {where} by itself: edit that file by hand")
    try:
        after = parse(new_text, where)
    except ConfigError:
        raise refused from None
    if after != {**before, name: dict(values)}:
        raise refused
    return new_text


def parse(text: str, where: str) -> dict[str, Any]:
    """The TOML document in `text`; ConfigError naming `where` when it does not parse."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot parse {where}: {exc}") from None
