"""A local stand-in for AWS IAM Identity Center's SSO-OIDC and SSO portal APIs (moto has neither).

Point botocore at it with ``AWS_ENDPOINT_URL_SSO_OIDC`` and ``AWS_ENDPOINT_URL_SSO`` (both ``server.url``).
It speaks the REST-JSON shapes of botocore's ``sso-oidc`` and ``sso`` service models and enforces the
rules the real service enforces:

- RegisterClient: public clients only; a client secret lives 90 days; refresh tokens are issued only to
  clients registered with the ``sso:account:access`` scope; registered redirect URIs must be loopback.
- Device authorization grant (RFC 8628): pending until the user approves, ``slow_down`` when polled
  faster than the interval, expiry, denial, and a device code is redeemed at most once.
- Authorization code grant with PKCE (RFC 7636, S256 only) and loopback redirect URIs (RFC 8252):
  a code is single use, lives 5 minutes and is bound to its client, redirect URI and challenge.
- Refresh tokens rotate: each use returns a new one and invalidates the one presented.
- GetRoleCredentials checks the bearer access token (401) and the role assignment (403).
  Every set of role credentials it hands out is kept in ``issued`` (for signature checks).

Errors carry ``x-amzn-ErrorType`` and the body each service uses (``error``/``error_description`` for
SSO-OIDC, ``message`` for the portal), so botocore raises its modeled exception classes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from harness.aws_signature import Issued
from harness.stand_in import StandIn

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ACCOUNT_ACCESS_SCOPE = "sso:account:access"
SUPPORTED_GRANTS = frozenset({DEVICE_CODE_GRANT, "authorization_code", "refresh_token"})
CLIENT_SECRET_TTL = 90 * 24 * 3600
AUTH_CODE_TTL = 300
DEFAULT_ROLES = frozenset({("123456789012", "Dev")})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The fields of an AWS CLI / botocore SSO token cache file.
AWS_CLI_TOKEN_FIELDS = frozenset(
    {
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    }
)
# Consonants only, so a user code never spells a word.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"

# SSO-OIDC exception name -> (HTTP status from botocore's model, OAuth error code for the body).
OIDC_ERRORS: dict[str, tuple[int, str]] = {
    "AccessDeniedException": (400, "access_denied"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "ExpiredTokenException": (400, "expired_token"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidRedirectUriException": (400, "invalid_redirect_uri"),
    "InvalidRequestException": (400, "invalid_request"),
    "SlowDownException": (400, "slow_down"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
}
# SSO portal exception name -> HTTP status. ForbiddenException is what the real portal answers for a
# role the user is not assigned to, although botocore's model does not declare it.
PORTAL_ERRORS: dict[str, int] = {
    "InvalidRequestException": 400,
    "UnauthorizedException": 401,
    "ForbiddenException": 403,
}

Reply = tuple[int, dict[str, str], bytes]

# (method, path) -> operation name. Authorize and VerifyDevice are the browser pages.
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/client/register"): "RegisterClient",
    ("POST", "/device_authorization"): "StartDeviceAuthorization",
    ("POST", "/token"): "CreateToken",
    ("GET", "/authorize"): "Authorize",
    ("GET", "/device"): "VerifyDevice",
    ("GET", "/federation/credentials"): "GetRoleCredentials",
}
OIDC_OPS = frozenset({"RegisterClient", "StartDeviceAuthorization", "CreateToken"})


class ApiError(Exception):
    """An error the service answers with; ``name`` is the x-amzn-ErrorType exception name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass
class Client:
    secret: str
    scopes: frozenset[str]
    grant_types: frozenset[str] | None  # None: registered without grantTypes, every grant allowed
    redirect_uris: tuple[str, ...]
    secret_expires_at: int

    @property
    def gets_refresh_tokens(self) -> bool:
        return ACCOUNT_ACCESS_SCOPE in self.scopes

    def allows(self, grant: str) -> bool:
        return self.grant_types is None or grant in self.grant_types


@dataclass
class Device:
    client_id: str
    user_code: str
    expires_at: float
    interval: int
    status: str = "pending"  # pending | approved | denied | redeemed
    last_poll: float | None = None


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    issued_at: float


class SsoServer(StandIn):
    """SSO-OIDC + SSO portal on 127.0.0.1 (random port), served from a daemon thread."""

    requests: list[dict[str, Any]]

    def __init__(self) -> None:
        self._ops: dict[str, Callable[[dict[str, Any], Mapping[str, str]], Reply]] = {
            "RegisterClient": self._register_client,
            "StartDeviceAuthorization": self._start_device_authorization,
            "CreateToken": self._create_token,
            "Authorize": self._authorize,
            "VerifyDevice": self._verify_device,
            "GetRoleCredentials": self._get_role_credentials,
        }
        super().__init__()

    # ----------------------------------------------------------------- test controls

    def approve_device(self, user_code: str) -> None:
        """The user signs in and approves the device request showing ``user_code``."""
        with self._lock:
            self._settle_device(user_code, "approved")

    def deny_device(self, user_code: str) -> None:
        """The user denies the device request; the next poll gets AccessDeniedException."""
        with self._lock:
            self._settle_device(user_code, "denied")

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now rejected by the portal (tokens issued later work)."""
        with self._lock:
            self._access_tokens = dict.fromkeys(self._access_tokens, 0.0)

    def seed_token(
        self, *, start_url: str, access_ttl: int = 3600, with_refresh: bool = True
    ) -> dict[str, str]:
        """Register a client and issue tokens as a completed login would, in the AWS CLI token-cache shape."""
        scopes = [ACCOUNT_ACCESS_SCOPE] if with_refresh else []
        with self._lock:
            client_id, client = self._new_client(scopes, None, [])
            tokens = self._issue_tokens(client_id, client, access_ttl)
        cache = {
            "startUrl": start_url,
            "region": "us-east-1",
            "accessToken": tokens["accessToken"],
            "expiresAt": _iso(self.now() + access_ttl),
            "clientId": client_id,
            "clientSecret": client.secret,
            "registrationExpiresAt": _iso(client.secret_expires_at),
        }
        if with_refresh:
            cache["refreshToken"] = tokens["refreshToken"]
        return cache

    # ----------------------------------------------------------------- state

    def _restore_defaults(self) -> None:
        self.access_token_ttl = 3600
        self.role_credentials_ttl = 3600
        self.device_code_ttl = 600
        self.device_interval = 1
        self.create_token_delay = 0.0  # seconds each CreateToken waits first (to widen races)
        self.create_token_in_flight = 0
        self.auth_code_ttl = AUTH_CODE_TTL
        self.roles: set[tuple[str, str]] = set(DEFAULT_ROLES)

    def _clear_state(self) -> None:
        self._clients: dict[str, Client] = {}
        self._devices: dict[str, Device] = {}  # device code -> device request
        self._user_codes: dict[str, str] = {}  # user code -> device code
        self._auth_codes: dict[str, AuthCode] = {}
        self._access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self._refresh_tokens: dict[str, str] = {}  # current token -> client id
        self.issued: list[Issued] = []  # every set of role credentials handed out

    def _settle_device(self, user_code: str, outcome: str) -> None:
        device = self._devices.get(self._user_codes.get(user_code.upper(), ""))
        if device is None:
            raise KeyError(f"unknown user code {user_code!r}")
        if device.status not in ("pending", outcome):
            raise ValueError(f"device request {user_code!r} is already {device.status}")
        device.status = outcome

    def _new_client(
        self, scopes: list[str], grant_types: list[str] | None, redirect_uris: list[str]
    ) -> tuple[str, Client]:
        client_id = secrets.token_urlsafe(16)
        client = Client(
            secret=secrets.token_urlsafe(64),
            scopes=frozenset(scopes),
            grant_types=None if grant_types is None else frozenset(grant_types),
            redirect_uris=tuple(redirect_uris),
            secret_expires_at=int(self.now()) + CLIENT_SECRET_TTL,
        )
        self._clients[client_id] = client
        return client_id, client

    def _issue_tokens(self, client_id: str, client: Client, ttl: int) -> dict[str, Any]:
        access_token = "aoa" + secrets.token_urlsafe(48)
        self._access_tokens[access_token] = self.now() + ttl
        reply: dict[str, Any] = {"accessToken": access_token, "tokenType": "Bearer", "expiresIn": ttl}
        if client.gets_refresh_tokens:
            refresh_token = "aor" + secrets.token_urlsafe(48)
            self._refresh_tokens[refresh_token] = client_id
            reply["refreshToken"] = refresh_token
        return reply

    def _authenticate(self, req: dict[str, Any]) -> tuple[str, Client]:
        client_id = str(req.get("clientId") or "")
        client = self._clients.get(client_id)
        if (
            client is None
            or client.secret != req.get("clientSecret")
            or self.now() >= client.secret_expires_at
        ):
            raise ApiError("InvalidClientException", "Invalid client credentials")
        return client_id, client

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        parts = urllib.parse.urlsplit(raw_path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        op = ROUTES.get((method, parts.path))
        if op is None or (op == "CreateToken" and "aws_iam" in query):
            return _json_reply(404, {"message": f"No route for {method} {parts.path}"})
        if op == "CreateToken" and self.create_token_delay:
            self.create_token_in_flight += 1
            time.sleep(self.create_token_delay)
        with self._lock:
            try:
                fields = _json_object(body) if method == "POST" else query
            except ValueError as exc:
                self._record_call(op, {})
                return _error_reply(op, ApiError("InvalidRequestException", str(exc)))
            self._record_call(op, fields)
            try:
                return self._ops[op](fields, headers)
            except ApiError as exc:
                return _error_reply(op, exc)

    def _record_call(self, op: str, fields: dict[str, Any]) -> None:
        self._record(op, {"op": op, **fields})

    # ----------------------------------------------------------------- SSO-OIDC

    def _register_client(self, req: dict[str, Any], _headers: Mapping[str, str]) -> Reply:
        if not req.get("clientName") or not req.get("clientType"):
            raise ApiError("InvalidRequestException", "clientName and clientType are required")
        if req["clientType"] != "public":
            raise ApiError("InvalidClientMetadataException", f"Unsupported clientType {req['clientType']!r}")
        grant_types = req.get("grantTypes")
        if grant_types is not None and not set(grant_types) <= SUPPORTED_GRANTS:
            raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant types {grant_types}")
        redirect_uris = req.get("redirectUris") or []
        bad = [uri for uri in redirect_uris if not _is_loopback(uri, need_port=False)]
        if bad:
            raise ApiError("InvalidRedirectUriException", f"Redirect URIs must be loopback http URIs: {bad}")
        client_id, client = self._new_client(req.get("scopes") or [], grant_types, redirect_uris)
        return _json_reply(
            200,
            {
                "clientId": client_id,
                "clientSecret": client.secret,
                "clientIdIssuedAt": client.secret_expires_at - CLIENT_SECRET_TTL,
                "clientSecretExpiresAt": client.secret_expires_at,
            },
        )

    def _start_device_authorization(self, req: dict[str, Any], _headers: Mapping[str, str]) -> Reply:
        client_id, client = self._authenticate(req)
        if not req.get("startUrl"):
            raise ApiError("InvalidRequestException", "startUrl is required")
        if not client.allows(DEVICE_CODE_GRANT):
            raise ApiError(
                "UnauthorizedClientException", "Client is not registered for the device code grant"
            )
        device_code, user_code = secrets.token_urlsafe(32), self._new_user_code()
        self._devices[device_code] = Device(
            client_id, user_code, self.now() + self.device_code_ttl, self.device_interval
        )
        self._user_codes[user_code] = device_code
        verification_uri = f"{self.url}/device"
        complete_uri = _with_query(verification_uri, {"user_code": user_code})
        return _json_reply(
            200,
            {
                "deviceCode": device_code,
                "userCode": user_code,
                "verificationUri": verification_uri,
                "verificationUriComplete": complete_uri,
                "expiresIn": self.device_code_ttl,
                "interval": self.device_interval,
            },
        )

    def _new_user_code(self) -> str:
        while True:
            letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
            code = f"{letters[:4]}-{letters[4:]}"
            if code not in self._user_codes:
                return code

    def _create_token(self, req: dict[str, Any], _headers: Mapping[str, str]) -> Reply:
        client_id, client = self._authenticate(req)
        grant = req.get("grantType")
        redeemers = {
            DEVICE_CODE_GRANT: self._redeem_device_code,
            "authorization_code": self._redeem_auth_code,
            "refresh_token": self._redeem_refresh_token,
        }
        redeem = redeemers.get(str(grant))
        if redeem is None:
            raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant type {grant!r}")
        if not client.allows(str(grant)):
            raise ApiError("UnauthorizedClientException", f"Client is not registered for {grant!r}")
        redeem(client_id, req)
        return _json_reply(200, self._issue_tokens(client_id, client, self.access_token_ttl))

    def _redeem_device_code(self, client_id: str, req: dict[str, Any]) -> None:
        """Raise unless the device code is approved; every poll, refused or not, restarts the interval."""
        device = self._devices.get(str(req.get("deviceCode") or ""))
        if device is None or device.client_id != client_id:
            raise ApiError("InvalidGrantException", "Invalid device code provided")
        if device.status == "redeemed":
            raise ApiError("InvalidGrantException", "Device code has already been redeemed")
        now = self.now()
        if now >= device.expires_at:
            raise ApiError("ExpiredTokenException", "Device code has expired")
        if device.status == "denied":
            raise ApiError("AccessDeniedException", "The user denied the authorization request")
        previous, device.last_poll = device.last_poll, now
        if previous is not None and now - previous < device.interval:
            raise ApiError("SlowDownException", "Client is polling too fast")
        if device.status == "pending":
            raise ApiError("AuthorizationPendingException", "Authorization is still pending")
        device.status = "redeemed"

    def _redeem_auth_code(self, client_id: str, req: dict[str, Any]) -> None:
        """Raise unless code, redirectUri and codeVerifier match; the code is spent by any attempt."""
        code = str(req.get("code") or "")
        grant = self._auth_codes.get(code)
        if grant is None or grant.client_id != client_id:
            raise ApiError("InvalidGrantException", "Invalid authorization code provided")
        del self._auth_codes[code]
        if self.now() - grant.issued_at > self.auth_code_ttl:
            raise ApiError("InvalidGrantException", "Authorization code has expired")
        if req.get("redirectUri") != grant.redirect_uri:
            raise ApiError("InvalidGrantException", "redirectUri does not match the authorization request")
        verifier = req.get("codeVerifier")
        if not verifier or pkce_challenge(str(verifier)) != grant.challenge:
            raise ApiError("InvalidGrantException", "Code verifier does not match the code challenge")

    def _redeem_refresh_token(self, client_id: str, req: dict[str, Any]) -> None:
        token = str(req.get("refreshToken") or "")
        if self._refresh_tokens.get(token) != client_id:
            raise ApiError("InvalidGrantException", "Invalid refresh token provided")
        del self._refresh_tokens[token]  # rotation: _issue_tokens hands out its successor

    # ----------------------------------------------------------------- browser pages

    def _authorize(self, query: dict[str, Any], _headers: Mapping[str, str]) -> Reply:
        """The signed-in user approves at once: redirect back to the loopback URI with code and state."""
        problem = self._authorize_problem(query)
        if problem:
            return _html_reply(400, "Invalid authorization request", problem)
        code = secrets.token_urlsafe(32)
        self._auth_codes[code] = AuthCode(
            query["client_id"], query["redirect_uri"], query["code_challenge"], self.now()
        )
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        return 302, {"Location": _with_query(query["redirect_uri"], params)}, b""

    def _authorize_problem(self, query: dict[str, Any]) -> str | None:
        client = self._clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if query.get("response_type") != "code":
            return "response_type must be 'code'"
        if client is None or self.now() >= client.secret_expires_at:
            return "Unknown client_id"
        if not client.allows("authorization_code"):
            return "Client is not registered for the authorization_code grant"
        if not _is_loopback(redirect_uri, need_port=True):
            return "redirect_uri must be http://127.0.0.1:<port>/<path> or http://localhost:<port>/<path>"
        if client.redirect_uris and not any(_same_but_port(redirect_uri, r) for r in client.redirect_uris):
            return "redirect_uri was not registered for this client"
        if query.get("code_challenge_method") != "S256":
            return "code_challenge_method must be S256"
        if not query.get("code_challenge"):
            return "code_challenge is required"
        return None

    def _verify_device(self, query: dict[str, Any], _headers: Mapping[str, str]) -> Reply:
        """The user opens verificationUriComplete and approves."""
        device = self._devices.get(self._user_codes.get(str(query.get("user_code", "")).upper(), ""))
        if device is None or device.status not in ("pending", "approved") or self.now() >= device.expires_at:
            return _html_reply(400, "Invalid code", "This code is unknown, expired or already used.")
        device.status = "approved"
        return _html_reply(200, "Request approved", "approved")

    # ----------------------------------------------------------------- SSO portal

    def _get_role_credentials(self, query: dict[str, Any], headers: Mapping[str, str]) -> Reply:
        expires_at = self._access_tokens.get(headers.get("x-amz-sso_bearer_token") or "")
        if expires_at is None or self.now() >= expires_at:
            raise ApiError("UnauthorizedException", "Session token not found or invalid")
        account_id, role_name = query.get("account_id"), query.get("role_name")
        if not account_id or not role_name:
            raise ApiError("InvalidRequestException", "account_id and role_name are required")
        if (account_id, role_name) not in self.roles:
            raise ApiError("ForbiddenException", "No access")
        expiration_ms = int((self.now() + self.role_credentials_ttl) * 1000)
        credentials = _role_credentials(expiration_ms)
        self.issued.append(
            Issued(
                credentials["accessKeyId"],
                credentials["secretAccessKey"],
                credentials["sessionToken"],
                expiration_ms / 1000,
            )
        )
        return _json_reply(200, {"roleCredentials": credentials})


# --------------------------------------------------------------------- helpers


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _role_credentials(expiration_ms: int) -> dict[str, Any]:
    key_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return {
        "accessKeyId": "ASIA" + "".join(secrets.choice(key_alphabet) for _ in range(16)),
        "secretAccessKey": base64.b64encode(secrets.token_bytes(30)).decode(),
        "sessionToken": base64.b64encode(secrets.token_bytes(96)).decode(),
        "expiration": expiration_ms,
    }


def _is_loopback(uri: str, *, need_port: bool) -> bool:
    """RFC 8252 loopback redirect: http, 127.0.0.1 or localhost, a path; the port may vary."""
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in LOOPBACK_HOSTS
        and parts.path.startswith("/")
        and not parts.fragment
        and (port is not None or not need_port)
    )


def _same_but_port(uri: str, registered: str) -> bool:
    a, b = urllib.parse.urlsplit(uri), urllib.parse.urlsplit(registered)
    return (a.scheme, a.hostname, a.path, a.query) == (b.scheme, b.hostname, b.path, b.query)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(uri)
    query = urllib.parse.urlencode(urllib.parse.parse_qsl(parts.query) + list(params.items()))
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(ISO_FORMAT)


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Malformed JSON body: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ValueError("Request body must be a JSON object")
    return parsed


def _json_reply(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    all_headers = {"Content-Type": "application/json", "x-amzn-RequestId": secrets.token_hex(16)}
    all_headers.update(headers or {})
    return status, all_headers, json.dumps(payload).encode()


def _error_reply(op: str, error: ApiError) -> Reply:
    headers = {"x-amzn-ErrorType": error.name}
    if op in OIDC_OPS:
        status, oauth_code = OIDC_ERRORS[error.name]
        return _json_reply(status, {"error": oauth_code, "error_description": error.message}, headers)
    return _json_reply(PORTAL_ERRORS[error.name], {"message": error.message}, headers)


def _html_reply(status: int, title: str, text: str) -> Reply:
    title, text = html.escape(title), html.escape(text)
    page = f"<!doctype html><html><head><title>{title}</title></head><body><p>{text}</p></body></html>"
    return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
