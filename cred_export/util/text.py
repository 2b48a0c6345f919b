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
    """`Kind: first line of the message`, or just the kind when it says nothing; what could be a
    secret in the message is masked (see `redact`)."""
    line = first_line(redact(str(exc)), limit)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def redact(text: str) -> str:
    """`text` with what could be a secret shown as `****`: a password in a URL (`user:****@`),
    the value of a secret-looking assignment (`SECRET=`, `token: `, `password=`…), and any long
    run of mixed-case letters and digits (an AWS secret key, a session or refresh token)."""
    import re  # not at the top: only error paths need it

    text = re.sub(r"(://[^/\s:@]+:)[^@\s/]+@", r"\1****@", text)
    text = re.sub(
        r"(?i)\b([a-z0-9_]*(?:secret|token|password|passwd|credential|key)[a-z0-9_]*[\"']?\s*[=:]\s*[\"']?)"
        r"[^\s\"',;]+",
        r"\1****",
        text,
    )
    return re.sub(r"[A-Za-z0-9/+=_-]{32,}", _mask_if_secret_like, text)


def _mask_if_secret_like(match) -> str:  # type: ignore[no-untyped-def]
    """A long word mixing lower case, upper case and digits reads as a key or a token (a path,
    starting with `/`, does not)."""
    word = match.group(0)
    kinds = (str.islower, str.isupper, str.isdigit)
    mixed = all(any(kind(c) for c in word) for kind in kinds)
    return "****" if mixed and not word.startswith("/") else word


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
