"""Bounded JSON-over-HTTP for OpenID Providers (discovery, token and device endpoints).

The standard library is enough for these few form posts. Every call runs under `deadline` (the
whole exchange, not each read, within the phase's deadline), reads at most `MAX_ANSWER` bytes of
an answer or an error body, and plain `http://` is refused except on loopback addresses (local
providers and tests).

Corporate networks: TLS trusts what botocore trusts for AWS calls, and the usual settings
besides, in this order: `AWS_CA_BUNDLE`, the profile's `ca_bundle`, `REQUESTS_CA_BUNDLE`, then
OpenSSL's own `SSL_CERT_FILE`/`SSL_CERT_DIR` or the system's store. `HTTPS_PROXY`/`NO_PROXY`
(and `HTTP_PROXY` for loopback `http://`) are read at every call, as urllib reads them.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from cred_export import __version__
from cred_export.errors import ConfigError, UpstreamError
from cred_export.util import bounded, deadline
from cred_export.util.text import first_line, proxy_parts, scrub_proxy_secrets

TIMEOUT = 10.0  # for any one read; the whole exchange has `deadline.ATTEMPT_SECONDS`
MAX_ANSWER = 1 << 20  # discovery documents, token answers and key sets are a few KB
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
CA_SETTINGS = "AWS_CA_BUNDLE (or ca_bundle in the profile, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)"


class OAuthError(Exception):
    """An OAuth error response (RFC 6749 §5.2): `error` and its description."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


def urlencode(query: dict[str, str]) -> str:
    return urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def is_safe_url(url: object) -> bool:
    """An `https://` URL (`http://` only on loopback) that no program could read as an option."""
    if not isinstance(url, str) or url.startswith("-") or not url.isprintable() or " " in url:
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return bool(host) and (parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK))


def check_url(url: str, what: str) -> str:
    if is_safe_url(url):
        return url
    shown = first_line(url if isinstance(url, str) else repr(url))
    raise ConfigError(f"{what} must be an https:// URL (http:// only on 127.0.0.1): {shown}")


def ca_bundle(profile_bundle: str | None = None) -> tuple[str | None, str]:
    """(the CA bundle file to trust, the setting it comes from); (None, …) for OpenSSL's default."""
    for value, source in (
        (os.environ.get("AWS_CA_BUNDLE"), "AWS_CA_BUNDLE"),
        (profile_bundle, "ca_bundle in the profile"),
        (os.environ.get("REQUESTS_CA_BUNDLE"), "REQUESTS_CA_BUNDLE"),
    ):
        if value is not None and value.strip():
            return os.path.expanduser(value.strip()), source
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return None, "SSL_CERT_FILE" if os.environ.get("SSL_CERT_FILE") else "SSL_CERT_DIR"
    return None, "the system's CA store"


def tls_context(profile_bundle: str | None = None) -> ssl.SSLContext:
    """Verification against the CAs in effect (see the module doc); ConfigError for a bad bundle."""
    bundle, source = ca_bundle(profile_bundle)
    try:
        return ssl.create_default_context(cafile=bundle) if bundle else ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or first_line(exc)
        raise ConfigError(f"cannot use the CA bundle {bundle} ({source}): {reason}") from None


def proxy_for(url: str) -> str | None:
    """The proxy urllib sends `url` through (HTTPS_PROXY, …, NO_PROXY), credentials masked."""
    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass_environment(parts.netloc):
        return None
    proxy = urllib.request.getproxies_environment().get(parts.scheme)
    return mask_proxy(proxy) if proxy else None


def mask_proxy(proxy: str) -> str:
    """The proxy URL with its credentials masked: `user:****@` for a user and a password, `****@`
    for a user part alone (a token)."""
    scheme, userinfo, hostport = proxy_parts(proxy)
    if userinfo is None:
        return first_line(proxy)
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:****" if colon and user else "****"
    return first_line(f"{scheme}{shown}@{hostport}")


def get_json(url: str, ca: str | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, headers=_headers())
    return _send(request, url, ca)


def post_form(
    url: str, form: dict[str, str], basic_auth: tuple[str, str] | None = None, ca: str | None = None
) -> dict[str, Any]:
    """POST `form`; an OAuth error response raises OAuthError, anything else UpstreamError."""
    headers = {**_headers(), "Content-Type": "application/x-www-form-urlencoded"}
    if basic_auth:
        pair = ":".join(urllib.parse.quote(x, safe="") for x in basic_auth)
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    body = urllib.parse.urlencode(form).encode()
    return _send(urllib.request.Request(url, data=body, headers=headers, method="POST"), url, ca)


def _headers() -> dict[str, str]:
    return {"Accept": "application/json", "User-Agent": f"cred-export/{__version__}"}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """OAuth endpoints answer; they do not send the client (and its secret) elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        host = urllib.parse.urlsplit(req.full_url).netloc
        raise UpstreamError(f"{host} answered HTTP {code}, a redirect, where an answer was due", service=host)


def _send(request: urllib.request.Request, url: str, ca: str | None) -> dict[str, Any]:
    host = urllib.parse.urlsplit(url).netloc
    try:
        seconds, last = deadline.call_bound()
        status, raw = bounded.call(lambda: _exchange(request, ca, host), seconds)
    except (deadline.DeadlinePassed, bounded.Overdue) as exc:
        phase_over = isinstance(exc, deadline.DeadlinePassed) or last
        bound = deadline.seconds_text() if phase_over else f"{seconds:g} s"
        raise UpstreamError(
            f"{host} did not answer within {bound}; check the network, VPN or proxy", service=host
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise unreachable(host, url, getattr(exc, "reason", exc), ca) from None
    if status is None:
        return _json(raw, host)
    data = _json_or_none(raw)
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        raise OAuthError(first_line(data["error"]), first_line(data.get("error_description") or ""))
    raise UpstreamError(f"{host} answered HTTP {status}", service=host)


def _exchange(request: urllib.request.Request, ca: str | None, host: str) -> tuple[int | None, bytes]:
    """(None, answer) or (the HTTP error status, its body): each at most MAX_ANSWER bytes."""
    # A fresh opener per call: urlopen's shared one would keep the proxy settings it first saw.
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context(ca)), _NoRedirects)
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return None, _capped(response, host)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, _capped(exc, host)
        finally:
            exc.close()


def _capped(response: Any, host: str) -> bytes:
    declared = response.headers.get("Content-Length") if response.headers else None
    if declared and declared.isdigit() and int(declared) > MAX_ANSWER:
        raise _too_large(host)
    raw = response.read(MAX_ANSWER + 1)
    if len(raw) > MAX_ANSWER:
        raise _too_large(host)
    return raw


def _too_large(host: str) -> UpstreamError:
    return UpstreamError(f"{host} sent an answer larger than {MAX_ANSWER >> 20} MiB", service=host)


def unreachable(host: str, url: str, reason: object, ca: str | None = None) -> UpstreamError:
    """The one line for a call that got no answer: a certificate, the proxy, or the network."""
    if isinstance(reason, ssl.SSLCertVerificationError):
        _, source = ca_bundle(ca)
        return UpstreamError(
            f"cannot verify the TLS certificate of {host}: {reason.verify_message or reason.reason}"
            f" (trusting {source}); set {CA_SETTINGS} to your organisation's CA bundle",
            service=host,
        )
    if isinstance(reason, ssl.SSLError):
        return UpstreamError(f"TLS with {host} failed: {first_line(reason.reason or reason)}", service=host)
    proxy = proxy_for(url)
    through = f" through the proxy {proxy} (HTTPS_PROXY, NO_PROXY)" if proxy else ""
    why = first_line(scrub_proxy_secrets(str(reason)))
    return UpstreamError(
        f"cannot reach {host}{through}: {why}; check the network, VPN or proxy", service=host
    )


def _json(raw: bytes, host: str) -> dict[str, Any]:
    data = _json_or_none(raw)
    if not isinstance(data, dict):
        raise UpstreamError(f"{host} did not answer with a JSON object", service=host)
    return data


def _json_or_none(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
