"""Checks a request's AWS credentials the way an AWS service does, against what was really issued.

Two kinds of caller are checked:

- a SigV4-signed request (``Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
  Signature=…``): the signature is computed again with the secret issued for that access key,
  by botocore's own signer (its canonical request and string to sign), and compared;
- a Bedrock API key (``Authorization: Bearer bedrock-api-key-<base64>``): the base64 is a
  SigV4-presigned URL (``aws-bedrock-token-generator``), whose signature is checked the same way.

A caller passes when the key id was issued (``lookup`` finds it), the session token is the one
issued with it, the credentials have not expired, the signature is scoped to the service and
matches, and its time is within 15 minutes (a presigned URL: before it expires). Anything else
raises `Refused`, carrying the error AWS answers with.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

API_KEY_PREFIX = "bedrock-api-key-"
MAX_SKEW = 15 * 60
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_UNSIGNED = "UNSIGNED-PAYLOAD"


class IssuedSecret(Protocol):
    """What an issuer (STS, the SSO portal, AWS Sign-In) handed out for one access key."""

    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_access_key(self) -> str: ...
    @property
    def session_token(self) -> str | None: ...
    @property
    def expires_at(self) -> float | None: ...


@dataclass(frozen=True)
class Issued:
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expires_at: float | None  # epoch seconds; None: long-term keys


Lookup = Callable[[str], "IssuedSecret | None"]


@dataclass(frozen=True)
class Caller:
    """Who a verified request came from."""

    key_id: str
    region: str
    scheme: str  # "sigv4" or "api-key"


class Refused(Exception):
    """A request AWS would refuse: HTTP 403 with this error type and message."""

    def __init__(self, error_type: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


def verify(
    method: str,
    raw_path: str,
    headers: Any,
    body: bytes,
    *,
    service: str,
    lookup: Lookup,
    now: float | None = None,
) -> Caller:
    """The caller of a request as received (`raw_path` with its query, as sent), or `Refused`."""
    now = time.time() if now is None else now
    authorization = headers.get("Authorization") or ""
    scheme, _, rest = authorization.partition(" ")
    if scheme == "Bearer":
        return verify_api_key(rest.strip(), service=service, lookup=lookup, now=now)
    if scheme == "AWS4-HMAC-SHA256":
        return _verify_signed_request(method, raw_path, headers, body, rest, service, lookup, now)
    raise Refused("MissingAuthenticationTokenException", "Missing Authentication Token")


# ------------------------------------------------------------------------------ SigV4 headers


def _verify_signed_request(
    method: str,
    raw_path: str,
    headers: Any,
    body: bytes,
    fields_text: str,
    service: str,
    lookup: Lookup,
    now: float,
) -> Caller:
    fields = _authorization_fields(fields_text)
    key_id, date, region, scoped_service = _scope(fields.get("Credential", ""))
    signed = fields.get("SignedHeaders", "").split(";")
    if "host" not in signed or not fields.get("Signature"):
        raise Refused("IncompleteSignatureException", "Authorization header requires Signature and host.")
    if scoped_service != service:
        raise Refused(
            "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'."
        )
    timestamp = headers.get("X-Amz-Date") or ""
    _check_time(timestamp, date, now)
    secret = _issued(lookup, key_id, headers.get("X-Amz-Security-Token"), now)
    if "x-amz-security-token" not in signed and secret.session_token:
        raise Refused("IncompleteSignatureException", "The security token must be signed.")
    _check_content_hash(headers, body)
    request = AWSRequest(method=method, url=f"http://{headers.get('Host')}{raw_path}", data=body)
    for name in signed:
        for value in headers.get_all(name) or []:
            request.headers[name] = value
    request.context["timestamp"] = timestamp
    signer = SigV4Auth(_credentials(secret), service, region)
    expected = _signature(signer, request)
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise Refused(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided."
            " Check your AWS Secret Access Key and signing method.",
        )
    return Caller(key_id, region, "sigv4")


def _authorization_fields(text: str) -> dict[str, str]:
    fields = {}
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


def _scope(credential: str) -> tuple[str, str, str, str]:
    """(key id, date, region, service) of `key/date/region/service/aws4_request`."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise Refused("IncompleteSignatureException", "Authorization header requires a valid Credential.")
    return parts[0], parts[1], parts[2], parts[3]


def _check_content_hash(headers: Any, body: bytes) -> None:
    """A signed `X-Amz-Content-SHA256` stands for the body in the signature: it must be the body's."""
    claimed = headers.get("X-Amz-Content-SHA256")
    if claimed and claimed != _UNSIGNED and claimed != hashlib.sha256(body).hexdigest():
        raise Refused(
            "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match."
        )


# ------------------------------------------------------------------------------ Bedrock API keys


def verify_api_key(token: str, *, service: str, lookup: Lookup, now: float | None = None) -> Caller:
    """The caller behind a Bedrock API key (a presigned `CallWithBearerToken` URL), or `Refused`."""
    now = time.time() if now is None else now
    url = _presigned_url(token)
    parts = urllib.parse.urlsplit(url)
    pairs = [pair.partition("=") for pair in parts.query.split("&") if pair]
    query = {urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in pairs}
    if query.get("Action") != "CallWithBearerToken" or query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise Refused("UnrecognizedClientException", "Invalid API Key format")
    key_id, date, region, scoped_service = _scope(query.get("X-Amz-Credential", ""))
    if scoped_service != service:
        raise Refused("UnrecognizedClientException", "Invalid API Key format")
    timestamp, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
    issued_at = _check_time(timestamp, date, now, skew=None)
    if not expires.isdigit() or now > issued_at + int(expires):
        raise Refused("AccessDeniedException", "Authentication failed: the API key has expired")
    secret = _issued(lookup, key_id, query.get("X-Amz-Security-Token"), now)
    unsigned_query = "&".join(f"{k}={v}" for k, _, v in pairs if k != "X-Amz-Signature")
    request = AWSRequest(
        method="POST",
        url=urllib.parse.urlunsplit(("https", parts.netloc, parts.path or "/", unsigned_query, "")),
        headers={"host": parts.netloc},
    )
    request.context["timestamp"] = timestamp
    signer = SigV4QueryAuth(_credentials(secret), service, region, expires=int(expires))
    if not hmac.compare_digest(_signature(signer, request), query.get("X-Amz-Signature", "")):
        raise Refused("UnrecognizedClientException", "Invalid API Key: signature does not match")
    return Caller(key_id, region, "api-key")


def _presigned_url(token: str) -> str:
    if not token.startswith(API_KEY_PREFIX):
        raise Refused("UnrecognizedClientException", "Invalid API Key format")
    try:
        decoded = base64.b64decode(token[len(API_KEY_PREFIX) :], validate=True).decode()
    except ValueError:
        raise Refused("UnrecognizedClientException", "Invalid API Key format") from None
    return "https://" + decoded.removesuffix("&Version=1")


# ------------------------------------------------------------------------------ shared


def _check_time(timestamp: str, date: str, now: float, skew: int | None = MAX_SKEW) -> float:
    """The signing time as epoch seconds; it must be the scope's date and (headers) near `now`."""
    try:
        signed_at = float(calendar.timegm(time.strptime(timestamp, _TIMESTAMP)))
    except ValueError:
        raise Refused("IncompleteSignatureException", "X-Amz-Date is missing or malformed.") from None
    if timestamp[:8] != date:
        raise Refused("InvalidSignatureException", "Date in Credential scope does not match X-Amz-Date.")
    if skew is not None and abs(now - signed_at) > skew:
        raise Refused(
            "InvalidSignatureException", f"Signature expired: {timestamp} is not within 15 minutes."
        )
    if skew is None and signed_at > now + MAX_SKEW:
        raise Refused("InvalidSignatureException", f"Signature not yet current: {timestamp}.")
    return signed_at


def _issued(lookup: Lookup, key_id: str, session_token: str | None, now: float) -> IssuedSecret:
    secret = lookup(key_id)
    if secret is None or (secret.session_token or None) != (session_token or None):
        raise Refused("UnrecognizedClientException", "The security token included in the request is invalid.")
    if secret.expires_at is not None and now >= secret.expires_at:
        raise Refused("ExpiredTokenException", "The security token included in the request is expired")
    return secret


def _credentials(secret: IssuedSecret) -> Credentials:
    return Credentials(secret.access_key_id, secret.secret_access_key, secret.session_token)


def _signature(signer: SigV4Auth, request: AWSRequest) -> str:
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def issued_by(*issuers: Any) -> Lookup:
    """A lookup over each issuer's `issued` (a dict by access key id, or a list), read at each call."""

    def lookup(key_id: str) -> IssuedSecret | None:
        for issuer in issuers:
            issued = issuer.issued
            if isinstance(issued, Mapping):
                found = issued.get(key_id)
            else:
                found = next((c for c in reversed(issued) if c.access_key_id == key_id), None)
            if found is not None:
                return found
        return None

    return lookup
