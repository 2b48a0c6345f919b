"""Bounded JSON-over-HTTP for OpenID Providers (discovery, token and device endpoints).

The standard library is enough for these few form posts; every call has a timeout, and plain
`http://` is refused except on loopback addresses (local providers and tests).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from cred_export import __version__
from cred_export.errors import ConfigError, UpstreamError

TIMEOUT = 10.0
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class OAuthError(Exception):
    """An OAuth error response (RFC 6749 §5.2): `error` and its description."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


def urlencode(query: dict[str, str]) -> str:
    return urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def check_url(url: str, what: str) -> str:
    try:
        parts = urllib.parse.urlsplit(url)
    except (TypeError, AttributeError, ValueError):  # not a string, or not a URL (e.g. "http://[x")
        raise ConfigError(f"{what} is not a URL: {str(url)[:200]!r}") from None
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return url
    raise ConfigError(f"{what} must be an https:// URL (http:// only on 127.0.0.1): {url}")


def get_json(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers=_headers())
    return _send(request, url)


def post_form(url: str, form: dict[str, str], basic_auth: tuple[str, str] | None = None) -> dict[str, Any]:
    """POST `form`; an OAuth error response raises OAuthError, anything else UpstreamError."""
    headers = {**_headers(), "Content-Type": "application/x-www-form-urlencoded"}
    if basic_auth:
        pair = ":".join(urllib.parse.quote(x, safe="") for x in basic_auth)
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    body = urllib.parse.urlencode(form).encode()
    return _send(urllib.request.Request(url, data=body, headers=headers, method="POST"), url)


def _headers() -> dict[str, str]:
    return {"Accept": "application/json", "User-Agent": f"cred-export/{__version__}"}


def _send(request: urllib.request.Request, url: str) -> dict[str, Any]:
    host = urllib.parse.urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return _json(response.read(), host)
    except urllib.error.HTTPError as exc:
        data = _json_or_none(exc.read())
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            raise OAuthError(data["error"], str(data.get("error_description") or "")) from None
        raise UpstreamError(f"{host} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UpstreamError(f"cannot reach {host}: {reason}; check the network or VPN") from None


def _json(raw: bytes, host: str) -> dict[str, Any]:
    data = _json_or_none(raw)
    if not isinstance(data, dict):
        raise UpstreamError(f"{host} did not answer with a JSON object")
    return data


def _json_or_none(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
