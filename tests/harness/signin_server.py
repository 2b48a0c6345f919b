"""A local stand-in for the AWS Sign-In service behind ``aws login`` (moto has none).

``aws login`` (AWS CLI >= 2.32) signs the user in through the browser with an OAuth 2.0 authorization
code grant (PKCE, loopback redirect), then keeps short-lived SigV4 credentials fresh by redeeming a
rotating refresh token. Every token request carries a DPoP proof (RFC 9449) signed with an EC P-256 key
that the CLI keeps in the session's cache file; the refresh token is bound to that key.

Point botocore at it with ``AWS_ENDPOINT_URL_SIGNIN`` (``server.url``); ``aws login --endpoint-url`` also
works, since the CLI derives the browser URL from the signin client's endpoint. It speaks the REST-JSON
shape of botocore's ``signin`` model (``POST /v1/token`` is ``CreateOAuth2Token``; its body is the
``tokenInput`` structure and its answer the ``tokenOutput`` structure, both unwrapped) and enforces:

- ``GET /v1/authorize``: one of the two devtools clients, ``response_type=code``, ``scope`` with
  ``openid``, a ``state``, PKCE with ``code_challenge_method=SHA-256`` (what the CLI sends) and a 43
  character challenge, and a redirect URI the client may use: ``http://127.0.0.1:<port>/oauth/callback``
  for the same-device client, ``<this endpoint>/v1/sessions/confirmation`` for the cross-device one.
  The user is signed in at once as ``server.identity`` and sent back with ``code`` and ``state``.
- Authorization codes are single use (any attempt spends them), expire, and are bound to their client,
  redirect URI and challenge.
- Refresh tokens rotate: each use returns a new one; a spent or unknown one is refused.
- A DPoP proof on every token request: ``typ`` dpop+jwt, ``alg`` ES256, a public P-256 ``jwk`` that the
  signature verifies against, ``htm`` POST, ``htu`` the URL the request went to, a fresh ``iat`` and a
  ``jti`` never seen before. The key's RFC 7638 thumbprint is bound to the session at the code exchange,
  and a refresh proved with any other key is refused.

Errors follow what the real service has been seen to answer: modeled failures carry
``x-amzn-ErrorType`` and ``{"error": <OAuth2ErrorCode>, "message": ...}`` (so botocore raises the
modeled exception and puts ``error`` in ``e.response``, which its login provider maps to
LoginRefreshRequired / LoginInsufficientPermissions); malformed bodies and unsupported grants get the
RFC 6749 ``{"error", "error_description"}`` body without ``x-amzn-ErrorType``.

Where the real service's behaviour is not known, the stand-in takes the strict or the documented side
and offers a switch: whether a spent refresh token is TOKEN_EXPIRED or INVALID_REQUEST
(``spent_refresh_error``), whether ``S256`` is accepted besides ``SHA-256`` (``challenge_methods``).
The statuses of AccessDeniedException other than TOKEN_EXPIRED, the authorize page's own error
handling and the DPoP error messages are guesses that keep to RFC 6749 and RFC 9449.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import html
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from harness.loopback import dispatching_handler
from harness.stand_in import StandIn

SAME_DEVICE_CLIENT = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE_CLIENT = "arn:aws:signin:::devtools/cross-device"
CLIENTS = frozenset({SAME_DEVICE_CLIENT, CROSS_DEVICE_CLIENT})
CALLBACK_PATH = "/oauth/callback"
CONFIRMATION_PATH = "/v1/sessions/confirmation"
TOKEN_PATH = "/v1/token"
CHALLENGE_METHOD = "SHA-256"
TOKEN_TYPE = "aws_sigv4"
DEFAULT_IDENTITY = "arn:aws:iam::123456789012:user/alice"
ID_TOKEN_ISSUER = "https://signin.aws.amazon.com/signin"
# CreateOAuth2TokenResponseBody.expiresIn is at most 900 in the model; a console session lasts up to 12 h.
DEFAULT_EXPIRES_IN = 900
SESSION_TTL = 12 * 3600
AUTH_CODE_TTL = 300
DPOP_MAX_SKEW = 60
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The fields of an ``aws login`` cache file (~/.aws/login/cache/<sha256(login_session)>.json).
AWS_CLI_LOGIN_FIELDS = frozenset(
    {"accessToken", "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"}
)
ACCESS_TOKEN_FIELDS = frozenset({"accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt"})

CHALLENGE_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
VERIFIER_PATTERN = re.compile(r"[A-Za-z0-9._~-]{43,128}")
KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
INVALID_GRANT_MESSAGE = "The provided authorization grant is invalid, expired, revoked, or malformed"

# A form-encoded token request is answered in OAuth's snake_case; botocore sends and reads camelCase JSON.
FORM_FIELDS = {
    "client_id": "clientId",
    "grant_type": "grantType",
    "code": "code",
    "redirect_uri": "redirectUri",
    "code_verifier": "codeVerifier",
    "refresh_token": "refreshToken",
}
SNAKE_CASE = {
    "accessToken": "access_token",
    "accessKeyId": "access_key_id",
    "secretAccessKey": "secret_access_key",
    "sessionToken": "session_token",
    "tokenType": "token_type",
    "expiresIn": "expires_in",
    "refreshToken": "refresh_token",
    "idToken": "id_token",
}

# Injectable refresh failures -> (exception name, OAuth2ErrorCode, HTTP status, message).
# TOKEN_EXPIRED's 401 and message are what the service has been seen to answer; the other statuses are
# not documented anywhere (the model gives AccessDeniedException none), so 401/403 are best guesses.
REFRESH_FAULTS: dict[str, tuple[str, str, int, str]] = {
    "TOKEN_EXPIRED": ("AccessDeniedException", "TOKEN_EXPIRED", 401, "The refresh token has expired."),
    "USER_CREDENTIALS_CHANGED": (
        "AccessDeniedException",
        "USER_CREDENTIALS_CHANGED",
        401,
        "The credentials of the signed-in user have changed since the session was created.",
    ),
    "INSUFFICIENT_PERMISSIONS": (
        "AccessDeniedException",
        "INSUFFICIENT_PERMISSIONS",
        403,
        "The signed-in principal is not allowed to perform signin:CreateOAuth2Token.",
    ),
    "server_error": ("InternalServerException", "server_error", 500, "Internal server error"),
    "rate_exceeded": ("TooManyRequestsError", "rate_exceeded", 429, "Rate exceeded"),
}
FAULT_ALIASES = {500: "server_error", 429: "rate_exceeded"}
# Faults a service returns before it looks at the request (so the DPoP proof's jti is not used up).
FRONT_DOOR_FAULTS = frozenset({"server_error", "rate_exceeded"})
SESSION_END_REASONS = frozenset({"TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"})

Reply = tuple[int, dict[str, str], bytes]


class SigninError(Exception):
    """A modeled error: ``x-amzn-ErrorType: name`` and ``{"error": error, "message": message}``."""

    def __init__(self, name: str, error: str, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.name, self.error, self.status, self.message, self.reason = name, error, status, message, reason


class OAuthError(Exception):
    """An RFC 6749 error body without ``x-amzn-ErrorType`` (malformed requests, unsupported grants)."""

    def __init__(self, error: str, description: str, reason: str) -> None:
        super().__init__(description)
        self.error, self.description, self.reason = error, description, reason


def _invalid(message: str, reason: str) -> SigninError:
    return SigninError("ValidationException", "INVALID_REQUEST", 400, message, reason)


def _denied(error: str, message: str, reason: str, status: int = 401) -> SigninError:
    return SigninError("AccessDeniedException", error, status, message, reason)


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str | None
    challenge: str
    arn: str
    issued_at: float


@dataclass
class Session:
    """One signed-in console session: what ``login_session`` in ~/.aws/config names."""

    arn: str
    client_id: str
    thumbprint: str  # RFC 7638 thumbprint of the DPoP key the session is bound to
    expires_at: float
    region: str | None
    refresh_token: str
    ended: str | None = None  # TOKEN_EXPIRED / USER_CREDENTIALS_CHANGED once ended early


@dataclass(frozen=True)
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    arn: str
    expires_at: float


class SigninServer(StandIn):
    """AWS Sign-In (``/v1/authorize``, ``/v1/token``) on 127.0.0.1 (random port), from a daemon thread.

    ``calls`` counts Authorize, SessionConfirmation and CreateOAuth2Token.
    """

    requests: list[dict[str, Any]]

    def __init__(self, identity: str = DEFAULT_IDENTITY) -> None:
        self._flight_lock = threading.Lock()
        self._initial_identity = identity
        self.grants: Counter[str] = Counter()  # CreateOAuth2Token calls per grantType
        self.refusals: Counter[str] = Counter()  # refused token calls per reason ("dpop-htu", ...)
        self.issued: list[IssuedCredentials] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._id_token_key = ec.generate_private_key(ec.SECP384R1())
        self.id_token_kid = str(uuid.uuid4())
        super().__init__()

    @property
    def id_token_public_key(self) -> ec.EllipticCurvePublicKey:
        """The ES384 key id tokens are signed with (``kid`` is ``id_token_kid``)."""
        return self._id_token_key.public_key()

    @property
    def dpop_violations(self) -> Counter[str]:
        """The refusals caused by a DPoP proof (empty when every client proved possession correctly)."""
        return Counter({reason: n for reason, n in self.refusals.items() if reason.startswith("dpop-")})

    # ----------------------------------------------------------------- test controls

    def fail_next_refreshes(self, count: int = 1, error: str | int = "TOKEN_EXPIRED") -> None:
        """The next ``count`` refresh_token calls fail with ``error`` (a REFRESH_FAULTS key, 500 or 429).

        The session is left as it was: the refresh token presented is not spent. Use expire_session()
        for a session that is over for good.
        """
        fault = FAULT_ALIASES.get(error, error) if isinstance(error, int) else error
        if fault not in REFRESH_FAULTS:
            raise ValueError(f"unknown fault {error!r}; one of {sorted(REFRESH_FAULTS)}, 500 or 429")
        with self._lock:
            self._faults.extend([fault] * count)

    def deny_next_authorization(self, count: int = 1) -> None:
        """The user refuses the next ``count`` sign-ins: redirected back with ``error=access_denied``."""
        with self._lock:
            self._denials += count

    def expire_session(self, arn: str | None = None, reason: str = "TOKEN_EXPIRED") -> int:
        """End every session of ``arn`` (all sessions if None); refreshes then fail with ``reason``."""
        if reason not in SESSION_END_REASONS:
            raise ValueError(f"reason must be one of {sorted(SESSION_END_REASONS)}")
        with self._lock:
            ended = [s for s in self._sessions if arn is None or s.arn == arn]
            for session in ended:
                session.ended = reason
            return len(ended)

    def current_refresh_token(self, arn: str | None = None) -> str | None:
        """The refresh token that would be accepted now for the latest live session of ``arn``."""
        with self._lock:
            for session in reversed(self._sessions):
                if (arn is None or session.arn == arn) and self._session_problem(session) is None:
                    return session.refresh_token
        return None

    def sessions(self, arn: str | None = None) -> list[Session]:
        """Every session of ``arn`` (all if None), oldest first; the live objects, so a test may end or
        shorten one by hand."""
        with self._lock:
            return [s for s in self._sessions if arn is None or s.arn == arn]

    def new_session(
        self,
        cache_dir: Path | str,
        *,
        arn: str | None = None,
        region: str | None = None,
        sign_in_region: str | None = None,
        client_id: str = SAME_DEVICE_CLIENT,
        access_ttl: int | None = None,
        config_file: Path | str | None = None,
        profile: str = "default",
    ) -> Path:
        """Leave a session as ``aws login`` does and return its cache file (written 0600).

        A fresh DPoP key is generated and bound to the session, its refresh token registered, and the
        cache file written in the AWS CLI's format to ``cache_dir/<sha256(arn)>.json``. ``access_ttl``
        is how long the cached credentials have left (default ``expires_in``; 0 or less: already expired,
        so botocore refreshes on first use). ``signInRegion`` is written only when ``sign_in_region`` is
        given: the AWS CLI does not write it, botocore reads it when present. ``region`` is recorded on
        the session; with ``config_file`` the profile gets ``login_session = <arn>`` (and ``region`` when
        given, which ``aws login`` writes only if it had to ask for one).
        """
        if client_id not in CLIENTS:
            raise ValueError(f"client_id must be one of {sorted(CLIENTS)}")
        arn = arn or self.identity
        key = _full_length_key()
        with self._lock:
            session = self._start_session(arn, client_id, jwk_thumbprint(public_jwk(key)), region)
            ttl = self.expires_in if access_ttl is None else access_ttl
            creds = self._issue_credentials(arn, ttl)
            token: dict[str, Any] = {
                "accessToken": {
                    "accessKeyId": creds.access_key_id,
                    "secretAccessKey": creds.secret_access_key,
                    "sessionToken": creds.session_token,
                    "accountId": account_of(arn),
                    "expiresAt": _iso(creds.expires_at),
                },
                "tokenType": TOKEN_TYPE,
                "clientId": client_id,
                "refreshToken": session.refresh_token,
                "idToken": self._id_token(arn, client_id),
                "dpopKey": dpop_key_pem(key),
            }
        if sign_in_region:
            token["signInRegion"] = sign_in_region
        path = cache_path(cache_dir, arn)
        write_cache_file(path, token)
        if config_file is not None:
            write_login_profile(Path(config_file), profile, arn, region)
        return path

    # ----------------------------------------------------------------- state

    def _restore_defaults(self) -> None:
        self.identity = self._initial_identity
        self.expires_in = DEFAULT_EXPIRES_IN
        self.session_ttl = SESSION_TTL
        self.auth_code_ttl = AUTH_CODE_TTL
        self.dpop_max_skew = DPOP_MAX_SKEW
        self.delay = 0.0  # seconds each CreateOAuth2Token call waits before it is handled
        # Seconds the service's clock is ahead of this machine's (a client with a skewed clock, seen
        # from the server): unlike `advance()`, its `Date` header and its idea of a recent DPoP `iat`
        # move with it.
        self.clock_offset = 0.0
        self.challenge_methods: set[str] = {CHALLENGE_METHOD}
        # What a spent or unknown refresh token gets: "TOKEN_EXPIRED" (AccessDeniedException, botocore's
        # LoginRefreshRequired) or "INVALID_REQUEST" (ValidationException); the real answer is not known.
        self.spent_refresh_error = "TOKEN_EXPIRED"

    def _clear_state(self) -> None:
        self.grants.clear()
        self.refusals.clear()
        self.issued.clear()
        with self._flight_lock:
            self.max_in_flight = self.in_flight
        self._codes: dict[str, AuthCode] = {}
        self._sessions: list[Session] = []
        self._refresh_tokens: dict[str, Session] = {}  # current refresh token -> its session
        self._seen_jti: set[str] = set()
        self._faults: deque[str] = deque()
        self._denials = 0

    def _now(self) -> float:
        """The service's clock, by which its codes, sessions and credentials expire."""
        return self.now() + self.clock_offset

    def _client_comparable_now(self) -> float:
        """The time a client's clock is compared with (`Date`, DPoP `iat`): the skew, not `advance()`."""
        return time.time() + self.clock_offset

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return dispatching_handler(self._dispatch, now=self._client_comparable_now)

    def _start_session(self, arn: str, client_id: str, thumbprint: str, region: str | None) -> Session:
        session = Session(
            arn, client_id, thumbprint, self._now() + self.session_ttl, region, _refresh_token()
        )
        self._sessions.append(session)
        self._refresh_tokens[session.refresh_token] = session
        return session

    def _session_problem(self, session: Session) -> str | None:
        if session.ended:
            return session.ended
        if self._now() >= session.expires_at:
            return "TOKEN_EXPIRED"
        return None

    def _issue_credentials(self, arn: str, ttl: float) -> IssuedCredentials:
        creds = IssuedCredentials(
            access_key_id="ASIA" + "".join(secrets.choice(KEY_ALPHABET) for _ in range(16)),
            secret_access_key=base64.b64encode(secrets.token_bytes(30)).decode(),
            session_token=base64.b64encode(secrets.token_bytes(180)).decode(),
            arn=arn,
            expires_at=self._now() + ttl,
        )
        self.issued.append(creds)
        return creds

    def _id_token(self, arn: str, client_id: str) -> str:
        """An ES384 id token shaped like the service's: ``sub`` and ``session_arn`` are the ARN."""
        now = int(self._now())
        header = {"kid": self.id_token_kid, "typ": "JWT", "alg": "ES384"}
        claims = {
            "sub": arn,
            "aud": client_id,
            "iss": ID_TOKEN_ISSUER,
            "session_arn": arn,
            "exp": now + DEFAULT_EXPIRES_IN,
            "iat": now,
        }
        # The service's JSON escapes "/" (its sample tokens carry "assumed-role\/Admin\/...").
        segments = [
            _b64url(json.dumps(part, separators=(",", ":")).replace("/", "\\/").encode())
            for part in (header, claims)
        ]
        signing_input = ".".join(segments).encode()
        der = self._id_token_key.sign(signing_input, ec.ECDSA(hashes.SHA384()))
        return ".".join([*segments, _b64url(_raw_signature(der, 48))])

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, method: str, raw_path: str, headers: Any, body: bytes) -> Reply:
        with self._flight_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            parts = urllib.parse.urlsplit(raw_path)
            if (method, parts.path) == ("POST", TOKEN_PATH) and not parts.query:
                if self.delay:
                    time.sleep(self.delay)
                with self._lock:
                    return self._token_endpoint(parts.path, headers, body)
            query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
            with self._lock:
                if (method, parts.path) == ("GET", "/v1/authorize"):
                    self._record_call("Authorize", query)
                    return self._authorize(query, headers)
                if (method, parts.path) == ("GET", CONFIRMATION_PATH):
                    self._record_call("SessionConfirmation", query)
                    return self._confirmation_page(query)
            return _json_reply(404, {"message": f"No route for {method} {raw_path}"})
        finally:
            with self._flight_lock:
                self.in_flight -= 1

    def _record_call(self, op: str, fields: dict[str, Any]) -> None:
        self._record(op, {"op": op, **fields})

    # ----------------------------------------------------------------- browser pages

    def _authorize(self, query: dict[str, str], headers: Any) -> Reply:
        """Sign the user in at once and redirect to the client's redirect URI with code and state."""
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        if client_id not in CLIENTS:
            return _html_reply(400, "Invalid authorization request", "Unknown client_id")
        if not self._redirect_allowed(client_id, redirect_uri, headers):
            return _html_reply(
                400, "Invalid authorization request", "redirect_uri is not valid for this client"
            )
        state = query.get("state")
        problem = self._authorize_problem(query)
        if problem:
            error, description = problem
            return _redirect(redirect_uri, {"error": error, "error_description": description, "state": state})
        if self._denials:
            self._denials -= 1
            return _redirect(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The user denied the request",
                    "state": state,
                },
            )
        code = secrets.token_urlsafe(48)
        self._codes[code] = AuthCode(
            client_id, redirect_uri, query["code_challenge"], self.identity, self._now()
        )
        return _redirect(redirect_uri, {"code": code, "state": state})

    def _authorize_problem(self, query: dict[str, str]) -> tuple[str, str] | None:
        if query.get("response_type") != "code":
            return "unsupported_response_type", "response_type must be 'code'"
        if "openid" not in query.get("scope", "").split():
            return "invalid_scope", "scope must include 'openid'"
        if not query.get("state"):
            return "invalid_request", "state is required"
        if query.get("code_challenge_method") not in self.challenge_methods:
            return "invalid_request", f"code_challenge_method must be {CHALLENGE_METHOD}"
        if not CHALLENGE_PATTERN.fullmatch(query.get("code_challenge", "")):
            return "invalid_request", "code_challenge must be the unpadded base64url SHA-256 of the verifier"
        return None

    def _redirect_allowed(self, client_id: str, redirect_uri: str, headers: Any) -> bool:
        if client_id == CROSS_DEVICE_CLIENT:
            return redirect_uri in {f"{base}{CONFIRMATION_PATH}" for base in self._own_bases(headers)}
        try:
            parts = urllib.parse.urlsplit(redirect_uri)
            port = parts.port
        except ValueError:
            return False
        # RFC 8252 loopback redirect: any port at request time, the registered host and path.
        return (
            parts.scheme == "http"
            and parts.hostname == "127.0.0.1"
            and "@" not in parts.netloc
            and port is not None
            and parts.path == CALLBACK_PATH
            and not parts.query
            and not parts.fragment
        )

    def _own_bases(self, headers: Any) -> set[str]:
        bases = {self.url}
        host = headers.get("Host")
        if host:
            bases.add(f"http://{host}")
        return bases

    def _confirmation_page(self, query: dict[str, str]) -> Reply:
        """Cross-device: the page shows base64('state=..&code=..') for the user to paste into the CLI."""
        if "error" in query:
            return _html_reply(400, "Sign-in failed", query.get("error_description") or query["error"])
        if not query.get("code") or not query.get("state"):
            return _html_reply(400, "Sign-in failed", "Missing code or state")
        pasted = urllib.parse.urlencode({"state": query["state"], "code": query["code"]})
        verification = base64.b64encode(pasted.encode()).decode()
        body = f'Enter this code in the AWS CLI: <code id="verification-code">{verification}</code>'
        return _html_reply(200, "Authorization code", body, escape=False)

    # ----------------------------------------------------------------- CreateOAuth2Token

    def _token_endpoint(self, path: str, headers: Any, body: bytes) -> Reply:
        entry: dict[str, Any] = {"op": "CreateOAuth2Token"}
        self._record("CreateOAuth2Token", entry)  # filled in below
        form = (headers.get("Content-Type") or "").split(";")[
            0
        ].strip() == "application/x-www-form-urlencoded"
        try:
            req = _parse_token_body(body, form)
            entry.update(req)
            self.grants[str(req.get("grantType") or "")] += 1
            output = self._create_token(req, headers, path, entry)
        except SigninError as exc:
            self.refusals[exc.reason] += 1
            extra = {"x-amzn-ErrorType": exc.name}
            return _json_reply(exc.status, {"error": exc.error, "message": exc.message}, extra)
        except OAuthError as exc:
            self.refusals[exc.reason] += 1
            return _json_reply(400, {"error": exc.error, "error_description": exc.description})
        return _json_reply(200, _snake_case(output) if form else output)

    def _create_token(
        self, req: dict[str, Any], headers: Any, path: str, entry: dict[str, Any]
    ) -> dict[str, Any]:
        grant, client_id = req.get("grantType"), req.get("clientId")
        if not grant or not client_id:
            raise _invalid("clientId and grantType are required", "missing-parameter")
        if grant not in ("authorization_code", "refresh_token"):
            raise OAuthError(
                "unsupported_grant_type", f"Unsupported grant type: {grant}", "unsupported-grant"
            )
        if client_id not in CLIENTS:
            raise _invalid(f"Invalid client: {client_id}", "unknown-client")
        refresh = grant == "refresh_token"
        if refresh and self._faults and self._faults[0] in FRONT_DOOR_FAULTS:
            raise self._fault(self._faults.popleft())
        claims, jwk, thumbprint = self._verify_dpop(headers, path)
        entry["dpop"], entry["dpop_jwk"] = claims, jwk
        if refresh and self._faults:
            raise self._fault(self._faults.popleft())
        if grant == "authorization_code":
            return self._redeem_code(req, thumbprint)
        return self._redeem_refresh_token(req, thumbprint)

    def _fault(self, fault: str) -> SigninError:
        name, error, status, message = REFRESH_FAULTS[fault]
        return SigninError(name, error, status, message, f"fault-{fault}")

    def _redeem_code(self, req: dict[str, Any], thumbprint: str) -> dict[str, Any]:
        """Raise unless code, client, redirectUri and codeVerifier match; any attempt spends the code."""
        code, verifier = str(req.get("code") or ""), str(req.get("codeVerifier") or "")
        if not code or not VERIFIER_PATTERN.fullmatch(verifier):
            raise _invalid("code and a 43-128 character codeVerifier are required", "missing-parameter")
        grant = self._codes.pop(code, None)
        if grant is None:
            raise _invalid(INVALID_GRANT_MESSAGE, "code-unknown")
        if self._now() - grant.issued_at > self.auth_code_ttl:
            raise _denied("AUTHCODE_EXPIRED", "The authorization code has expired.", "code-expired")
        if req.get("clientId") != grant.client_id:
            raise _invalid(INVALID_GRANT_MESSAGE, "code-client")
        if req.get("redirectUri") != grant.redirect_uri:
            raise _invalid(INVALID_GRANT_MESSAGE, "code-redirect-uri")
        if pkce_challenge(verifier) != grant.challenge:
            raise _invalid(INVALID_GRANT_MESSAGE, "code-verifier")
        session = self._start_session(grant.arn, grant.client_id, thumbprint, None)
        output = self._token_output(session)
        output["idToken"] = self._id_token(session.arn, session.client_id)
        return output

    def _redeem_refresh_token(self, req: dict[str, Any], thumbprint: str) -> dict[str, Any]:
        token = str(req.get("refreshToken") or "")
        if not token:
            raise _invalid("refreshToken is required", "missing-parameter")
        session = self._refresh_tokens.get(token)
        if session is None:
            if self.spent_refresh_error == "INVALID_REQUEST":
                raise _invalid(INVALID_GRANT_MESSAGE, "refresh-token-spent")
            raise _denied("TOKEN_EXPIRED", "The refresh token has expired.", "refresh-token-spent")
        if req.get("clientId") != session.client_id:
            raise _invalid(INVALID_GRANT_MESSAGE, "refresh-token-client")
        problem = self._session_problem(session)
        if problem:
            _, error, status, message = REFRESH_FAULTS[problem]
            raise _denied(error, message, "session-ended", status)
        if thumbprint != session.thumbprint:
            raise _invalid("The DPoP proof is not signed with the key bound to this session", "dpop-key")
        del self._refresh_tokens[token]
        session.refresh_token = _refresh_token()
        self._refresh_tokens[session.refresh_token] = session
        return self._token_output(session)

    def _token_output(self, session: Session) -> dict[str, Any]:
        remaining = session.expires_at - self._now()
        expires_in = max(1, int(min(self.expires_in, remaining)))
        creds = self._issue_credentials(session.arn, expires_in)
        return {
            "accessToken": {
                "accessKeyId": creds.access_key_id,
                "secretAccessKey": creds.secret_access_key,
                "sessionToken": creds.session_token,
            },
            "tokenType": TOKEN_TYPE,
            "expiresIn": expires_in,
            "refreshToken": session.refresh_token,
        }

    # ----------------------------------------------------------------- DPoP (RFC 9449 section 4.3)

    def _verify_dpop(self, headers: Any, path: str) -> tuple[dict[str, Any], dict[str, Any], str]:
        """Return the proof's claims, its jwk and its key's thumbprint, or raise naming the rule broken."""
        proofs = headers.get_all("DPoP") or []
        if not proofs:
            raise _invalid("A DPoP proof is required", "dpop-missing")
        if len(proofs) > 1:
            raise _invalid("Exactly one DPoP header is allowed", "dpop-multiple")
        try:
            header_b64, claims_b64, signature_b64 = proofs[0].split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            signature = _b64url_decode(signature_b64)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid("The DPoP proof is not a JWS compact serialization", "dpop-malformed") from exc
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise _invalid("The DPoP proof is not a JWS compact serialization", "dpop-malformed")
        if header.get("typ") != "dpop+jwt":
            raise _invalid("The DPoP proof typ must be dpop+jwt", "dpop-typ")
        if header.get("alg") != "ES256":
            raise _invalid("The DPoP proof alg must be ES256", "dpop-alg")
        jwk = header.get("jwk")
        key = _public_key(jwk)
        if key is None:
            raise _invalid("The DPoP proof jwk must be a public EC P-256 key", "dpop-jwk")
        if not _verify_es256(key, f"{header_b64}.{claims_b64}".encode(), signature):
            raise _invalid("The DPoP proof signature does not verify", "dpop-signature")
        if claims.get("htm") != "POST":
            raise _invalid("The DPoP proof htm does not match the request method", "dpop-htm")
        if not isinstance(claims.get("htu"), str) or not any(
            _same_uri(claims["htu"], f"{base}{path}") for base in self._own_bases(headers)
        ):
            raise _invalid("The DPoP proof htu does not match the request URI", "dpop-htu")
        iat = claims.get("iat")
        is_seconds = isinstance(iat, int) and not isinstance(iat, bool)
        if not is_seconds or abs(self._client_comparable_now() - iat) > self.dpop_max_skew:
            raise _invalid("The DPoP proof iat is missing or not recent", "dpop-iat")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _invalid("The DPoP proof needs a jti", "dpop-jti")
        if jti in self._seen_jti:
            raise _invalid("The DPoP proof has been used before", "dpop-replay")
        self._seen_jti.add(jti)
        # Bound by key, not by spelling: botocore (awscrt) drops leading zero bytes from a coordinate
        # that has them, other clients pad to 32 bytes as RFC 7518 asks; both name the same key.
        return claims, jwk, jwk_thumbprint(public_jwk(key))


# --------------------------------------------------------------------- DPoP and key helpers


def public_jwk(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK of a P-256 key, coordinates padded to 32 bytes as RFC 7518 asks."""
    numbers = (key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key).public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: base64url(SHA-256) of the required members, sorted, no whitespace."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def make_dpop_proof(
    key: ec.EllipticCurvePrivateKey,
    url: str,
    *,
    htm: str = "POST",
    iat: int | None = None,
    jti: str | None = None,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    sign_with: ec.EllipticCurvePrivateKey | None = None,
) -> str:
    """A DPoP proof like botocore's; ``header``/``claims`` override members (None removes one) and
    ``sign_with`` signs with another key than the one in ``jwk`` (a forged proof)."""
    head: dict[str, Any] = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public_jwk(key)}
    body: dict[str, Any] = {
        "htm": htm,
        "htu": url,
        "iat": int(time.time()) if iat is None else iat,
        "jti": jti or str(uuid.uuid4()),
    }
    for target, overrides in ((head, header), (body, claims)):
        for name, value in (overrides or {}).items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    segments = [_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (head, body)]
    signing_input = ".".join(segments).encode()
    der = (sign_with or key).sign(signing_input, ec.ECDSA(hashes.SHA256()))
    return ".".join([*segments, _b64url(_raw_signature(der, 32))])


def dpop_key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """SEC1 PEM ("EC PRIVATE KEY", 64-column lines, trailing newline), as the AWS CLI stores dpopKey."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def load_dpop_key(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("dpopKey is not an EC private key")
    return key


def pkce_challenge(verifier: str) -> str:
    """The SHA-256 code challenge: base64url(sha256(verifier)) without padding."""
    return _b64url(hashlib.sha256(verifier.encode()).digest())


# --------------------------------------------------------------------- cache file and config helpers


def account_of(arn: str) -> str:
    """The account id of an ARN (what the AWS CLI stores as accessToken.accountId)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[4]


def cache_path(cache_dir: Path | str, login_session: str) -> Path:
    """Where ``aws login`` keeps a session: <dir>/<hex sha256 of the login_session ARN>.json."""
    return Path(cache_dir) / f"{hashlib.sha256(login_session.encode()).hexdigest()}.json"


def write_cache_file(path: Path, token: Mapping[str, Any]) -> None:
    """Write as the AWS CLI's JSONFileCache does: json.dumps defaults (one line, no newline), 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(json.dumps(token))


def write_login_profile(config_file: Path, profile: str, arn: str, region: str | None) -> None:
    """Set ``login_session`` (and ``region``) in the profile's section, as ``aws login`` does."""
    parser = configparser.RawConfigParser()
    if config_file.exists():
        parser.read(config_file)
    section = "default" if profile == "default" else f"profile {profile}"
    if not parser.has_section(section):
        parser.add_section(section)
    parser.set(section, "login_session", arn)
    if region:
        parser.set(section, "region", region)
    config_file.parent.mkdir(parents=True, exist_ok=True)
    with config_file.open("w") as handle:
        parser.write(handle)


# --------------------------------------------------------------------- internals


def _full_length_key() -> ec.EllipticCurvePrivateKey:
    """A P-256 key whose coordinates have no leading zero byte, so that every client spells its JWK
    the same way (awscrt would otherwise drop the zero byte, cryptography keep it)."""
    while True:
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        if numbers.x >> 248 and numbers.y >> 248:
            return key


def _refresh_token() -> str:
    # RevokeOAuth2TokenWithIAM's model gives Sign-In refresh tokens the pattern ASOR[A-Za-z0-9+/=_-]+.
    return "ASOR" + secrets.token_urlsafe(96)


def _public_key(jwk: Any) -> ec.EllipticCurvePublicKey | None:
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        return None
    try:
        x, y = _b64url_decode(jwk["x"]), _b64url_decode(jwk["y"])
        # RFC 7518 wants exactly 32 bytes, but awscrt's coordinates lose their leading zero bytes
        # (about one key in 160) and botocore sends them so: accept the short form too.
        if not (0 < len(x) <= 32 and 0 < len(y) <= 32):
            return None
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        return numbers.public_key()
    except (KeyError, TypeError, ValueError):
        return None


def _verify_es256(key: ec.EllipticCurvePublicKey, signing_input: bytes, signature: bytes) -> bool:
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _raw_signature(der: bytes, size: int) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _same_uri(a: str, b: str) -> bool:
    """RFC 9449 htu comparison: scheme and host case-insensitive, default port implied, no query."""

    def normal(uri: str) -> tuple[str, str, int | None, str]:
        parts = urllib.parse.urlsplit(uri)
        scheme = parts.scheme.lower()
        port = parts.port if parts.port is not None else {"http": 80, "https": 443}.get(scheme)
        return scheme, (parts.hostname or "").lower(), port, parts.path or "/"

    try:
        return normal(a) == normal(b)
    except ValueError:
        return False


def _parse_token_body(body: bytes, form: bool) -> dict[str, Any]:
    if form:
        try:
            pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as exc:
            raise OAuthError("invalid_request", "Malformed form body", "malformed-body") from exc
        return {FORM_FIELDS.get(name, name): value for name, value in pairs}
    try:
        parsed = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_request", f"Malformed JSON body: {exc}", "malformed-body") from exc
    if not isinstance(parsed, dict):
        raise OAuthError("invalid_request", "The request body must be a JSON object", "malformed-body")
    return parsed


def _snake_case(value: Any) -> Any:
    if isinstance(value, dict):
        return {SNAKE_CASE.get(name, name): _snake_case(item) for name, item in value.items()}
    return value


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(ISO_FORMAT)


def _redirect(uri: str, params: Mapping[str, str | None]) -> Reply:
    parts = urllib.parse.urlsplit(uri)
    pairs = urllib.parse.parse_qsl(parts.query) + [(k, v) for k, v in params.items() if v is not None]
    location = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(pairs)))
    return 302, {"Location": location, "Cache-Control": "no-store"}, b""


def _json_reply(status: int, payload: Mapping[str, Any], headers: dict[str, str] | None = None) -> Reply:
    all_headers = {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    all_headers.update(headers or {})
    return status, all_headers, json.dumps(payload).encode()


def _html_reply(status: int, title: str, text: str, *, escape: bool = True) -> Reply:
    title = html.escape(title)
    text = html.escape(text) if escape else text
    page = f"<!doctype html><html><head><title>{title}</title></head><body><p>{text}</p></body></html>"
    return status, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
