"""Text from elsewhere (exceptions, services, IdPs) made fit for one line on a terminal.

Nothing a service sends reaches a terminal raw: control characters (an `ESC[2J`, an OSC title
or link) and invisible format characters (bidi overrides) become `?`. Nor does any part of a
proxy's credentials, however an error quotes the proxy URL.
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


def proxy_parts(proxy: str) -> tuple[str, str | None, str]:
    """(`scheme://`, the credentials or None, `host:port…`). The last `@` ends the credentials:
    a password may hold an unencoded `/`, `@` or `#`."""
    scheme, sep, rest = proxy.partition("://")
    if not sep:
        scheme, rest = "", proxy
    userinfo, at, hostport = rest.rpartition("@")
    return scheme + sep, (userinfo if at else None), hostport if at else rest


PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_URL_DELIMITERS = "/:@?#[]%"
_SHORTEST_SECRET_PIECE = 3


def scrub_proxy_secrets(text: str) -> str:
    """`text` with every piece of a proxy's credentials (from the environment) replaced by ****.

    An error about a proxy URL may quote any part of it: urllib3 quotes what it could not parse,
    which, for a password with an unencoded `/`, is its start. So each run of the secret between
    URL delimiters is masked too, wherever it shows."""
    import os
    import urllib.parse

    pieces: set[str] = set()
    for name in PROXY_VARIABLES:
        _, userinfo, _ = proxy_parts(os.environ.get(name) or "")
        if userinfo:
            user, colon, password = userinfo.partition(":")
            secret = password if colon and user else userinfo
            pieces.update({secret, urllib.parse.unquote(secret)})
            pieces.update(p for p in _split(secret, _URL_DELIMITERS) if len(p) >= _SHORTEST_SECRET_PIECE)
    for piece in sorted((p for p in pieces if p), key=len, reverse=True):
        text = text.replace(piece, "****")
    return text


def _split(text: str, delimiters: str) -> list[str]:
    for delimiter in delimiters[1:]:
        text = text.replace(delimiter, delimiters[0])
    return text.split(delimiters[0])
