"""A strict reader of `.reg` files as `cred-export setup claude-desktop --managed --format reg`
writes them, for the tests: anything regedit might read differently is an error.

Accepted: a UTF-16LE byte order mark, UTF-16LE text, CRLF line ends only (the last line ends
too); the header `Windows Registry Editor Version 5.00` then one empty line; key lines
`[HKEY_LOCAL_MACHINE\\…]` or `[HKEY_CURRENT_USER\\…]` (no deletions, no empty path parts), each
followed by `"name"="value"` lines (REG_SZ only: no `@`, `dword:`, `hex:`), one empty line
allowed between keys. Inside quotes, `\\\\` and `\\"` are the only escapes; a bare `"` or any
other backslash escape is an error, as are comments, duplicate keys and duplicate names.
"""

from __future__ import annotations

import re

HEADER = "Windows Registry Editor Version 5.00"
ROOTS = ("HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER")
_KEY = re.compile(r"\[([^\[\]\r\n]+)\]")


class RegFileError(ValueError):
    pass


def parse(data: bytes) -> dict[str, dict[str, str]]:
    """{key path: {value name: string value}}, or RegFileError naming the line at fault."""
    if not data.startswith(b"\xff\xfe"):
        raise RegFileError("no UTF-16LE byte order mark")
    try:
        text = data[2:].decode("utf-16-le", errors="strict")
    except UnicodeDecodeError as exc:
        raise RegFileError(f"not UTF-16LE: {exc}") from None
    if not text.endswith("\r\n"):
        raise RegFileError("the last line does not end with CRLF")
    lines = text[:-2].split("\r\n")
    if any("\n" in line or "\r" in line for line in lines):
        raise RegFileError("a line end other than CRLF")
    if lines[:2] != [HEADER, ""]:
        raise RegFileError(f"the file does not start with {HEADER!r} and an empty line")
    keys: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, line in enumerate(lines[2:], start=3):
        if line == "":
            current = None
            continue
        key = _KEY.fullmatch(line)
        if key:
            path = key.group(1)
            parts = path.split("\\")
            if parts[0] not in ROOTS or any(not part for part in parts) or len(parts) < 2:
                raise RegFileError(f"line {number}: bad key path {path!r}")
            if path in keys:
                raise RegFileError(f"line {number}: key {path!r} twice")
            current = keys[path] = {}
            continue
        if current is None:
            raise RegFileError(f"line {number}: a value outside a key, or something else: {line!r}")
        name, rest = _quoted(line, number)
        if not rest.startswith("="):
            raise RegFileError(f"line {number}: no '=' after the value name")
        value, rest = _quoted(rest[1:], number)
        if rest:
            raise RegFileError(f"line {number}: text after the value: {rest!r}")
        if name in current:
            raise RegFileError(f"line {number}: value {name!r} twice")
        current[name] = value
    return keys


def _quoted(text: str, number: int) -> tuple[str, str]:
    """The string a quoted token at the start of `text` stands for, and the text after it."""
    if not text.startswith('"'):
        raise RegFileError(f"line {number}: expected a quoted string (REG_SZ only): {text!r}")
    out = []
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            escaped = text[index + 1 : index + 2]
            if escaped not in ("\\", '"'):
                raise RegFileError(f"line {number}: unknown escape \\{escaped}")
            out.append(escaped)
            index += 2
            continue
        if char == '"':
            return "".join(out), text[index + 1 :]
        out.append(char)
        index += 1
    raise RegFileError(f"line {number}: unterminated string")
