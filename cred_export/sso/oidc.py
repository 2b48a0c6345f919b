"""SSO-OIDC calls: client registration, device authorization, authorization code + PKCE, refresh.

All through botocore's `sso-oidc` client (unsigned; honours AWS_ENDPOINT_URL_SSO_OIDC), with
the same bounded network settings as every other AWS call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from botocore import UNSIGNED
from botocore.exceptions import BotoCoreError, ClientError

from cred_export import __version__, files
from cred_export.chain import SsoRoot
from cred_export.errors import UpstreamError, sign_in_required
from cred_export.login import device as device_grant
from cred_export.login.device import DeviceAuthorization
from cred_export.sso import tokens
from cred_export.sso.tokens import SsoToken
from cred_export.sts import CLIENT_CONFIG, MALFORMED_ANSWER, botocore_session

CLIENT_NAME = f"cred-export-{__version__}"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REDIRECT_PATH = "/oauth/callback"
# Registrations are reused until this close to their expiry.
REGISTRATION_MARGIN = 3600
# No access token lives longer; a larger `expiresIn` is an absurd answer, bounded to this.
MAX_TOKEN_LIFETIME = 90 * 24 * 3600


@dataclass(frozen=True)
class Registration:
    client_id: str
    client_secret: str = field(repr=False)
    expires_at: float


def client(root: SsoRoot) -> Any:
    config = CLIENT_CONFIG.merge(_unsigned())
    return botocore_session(None).create_client("sso-oidc", region_name=root.region, config=config)


def _unsigned() -> Any:
    from botocore.config import Config

    return Config(signature_version=UNSIGNED)


def endpoint(oidc: Any) -> str:
    return str(oidc.meta.endpoint_url).rstrip("/")


@contextmanager
def oidc_errors(root: SsoRoot, what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        if code in ("InvalidGrantException", "ExpiredTokenException", "AccessDeniedException"):
            raise sign_in_required(root.profile, f"{what} was refused: {code}") from None
        raise UpstreamError(f"SSO-OIDC {what} for profile {root.profile!r} failed: {code}") from None
    except BotoCoreError as exc:
        raise UpstreamError(
            f"SSO-OIDC {what} for profile {root.profile!r} failed: {exc}; check the network or VPN"
        ) from None
    except MALFORMED_ANSWER:
        raise UpstreamError(
            f"SSO-OIDC {what} for profile {root.profile!r} failed: a malformed answer"
        ) from None


def refresh(root: SsoRoot, token: SsoToken) -> SsoToken:
    """Renew the access token with the refresh token; the refresh token rotates."""
    oidc = client(root)
    with oidc_errors(root, "token renewal"):
        response = oidc.create_token(
            grantType="refresh_token",
            clientId=token.client_id,
            clientSecret=token.client_secret,
            refreshToken=token.refresh_token,
        )
    return _token_from(
        root,
        response,
        Registration(token.client_id, token.client_secret, token.registration_expires_at or 0),
        token,
    )


def register(root: SsoRoot, oidc: Any, *, for_browser: bool) -> Registration:
    """A client registration for this start URL, reused from disk until it nears expiry."""
    path = _registration_path(root, for_browser)
    cached = _load_registration(path)
    if cached is not None and cached.expires_at - time.time() > REGISTRATION_MARGIN:
        return cached
    params: dict[str, Any] = {"clientName": CLIENT_NAME, "clientType": "public", "scopes": list(root.scopes)}
    if for_browser:
        params.update(
            grantTypes=["authorization_code", "refresh_token"],
            redirectUris=[f"http://127.0.0.1{REDIRECT_PATH}"],
            issuerUrl=root.start_url,
        )
    with oidc_errors(root, "client registration"):
        response = oidc.register_client(**params)
    registration = Registration(
        response["clientId"], response["clientSecret"], float(response["clientSecretExpiresAt"])
    )
    data = {
        "clientId": registration.client_id,
        "clientSecret": registration.client_secret,
        "expiresAt": registration.expires_at,
    }
    files.write_private(path, json.dumps(data))
    return registration


def _registration_path(root: SsoRoot, for_browser: bool) -> str:
    material = json.dumps(
        {
            "tool": "cred-export",
            "startUrl": root.start_url,
            "region": root.region,
            "scopes": sorted(root.scopes),
            "browser": for_browser,
        },
        sort_keys=True,
    )
    return os.path.join(tokens.cache_dir(), hashlib.sha1(material.encode()).hexdigest() + ".json")


def _load_registration(path: str) -> Registration | None:
    text = files.read_text(path, limit=64 * 1024)
    try:
        data = json.loads(text or "")
        return Registration(str(data["clientId"]), str(data["clientSecret"]), float(data["expiresAt"]))
    except (ValueError, KeyError, TypeError):
        return None


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    root: SsoRoot, oidc: Any, registration: Registration, redirect_uri: str, state: str, challenge: str
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": registration.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "scopes": " ".join(root.scopes),
            "code_challenge": challenge,
        }
    )
    return f"{endpoint(oidc)}/authorize?{query}"


def redeem_code(
    root: SsoRoot, oidc: Any, registration: Registration, code: str, redirect_uri: str, verifier: str
) -> SsoToken:
    with oidc_errors(root, "sign-in"):
        response = oidc.create_token(
            grantType="authorization_code",
            clientId=registration.client_id,
            clientSecret=registration.client_secret,
            code=code,
            redirectUri=redirect_uri,
            codeVerifier=verifier,
        )
    return _token_from(root, response, registration)


def _token_from(
    root: SsoRoot, response: dict, registration: Registration, previous: SsoToken | None = None
) -> SsoToken:
    access_token, lifetime = response.get("accessToken"), response.get("expiresIn", 3600)
    if not isinstance(access_token, str) or not access_token or not isinstance(lifetime, int):
        raise UpstreamError(f"SSO-OIDC answered profile {root.profile!r} without a usable access token")
    refresh_token = response.get("refreshToken")
    return SsoToken(
        start_url=root.start_url,
        region=root.region,
        access_token=access_token,
        expires_at=time.time() + min(max(lifetime, 0), MAX_TOKEN_LIFETIME),
        client_id=registration.client_id,
        client_secret=registration.client_secret,
        registration_expires_at=registration.expires_at,
        # Refresh tokens rotate: a new one replaces the old; keep the old only if none came.
        refresh_token=(refresh_token if isinstance(refresh_token, str) else None)
        or (previous.refresh_token if previous else None),
        extra=previous.extra if previous else {},
    )


def start_device_authorization(root: SsoRoot, oidc: Any, registration: Registration) -> DeviceAuthorization:
    with oidc_errors(root, "device authorization"):
        response = oidc.start_device_authorization(
            clientId=registration.client_id, clientSecret=registration.client_secret, startUrl=root.start_url
        )
    return DeviceAuthorization.starting_now(
        response["deviceCode"],
        response["userCode"],
        response.get("verificationUriComplete") or response["verificationUri"],
        int(response.get("expiresIn", 600)),
        int(response.get("interval", 5)),
    )


def poll_device_token(
    root: SsoRoot, oidc: Any, registration: Registration, device: DeviceAuthorization, deadline: float
) -> SsoToken:
    """Poll until the user approves, the code expires, or `deadline` (monotonic)."""

    def attempt() -> SsoToken | str:
        try:
            response = oidc.create_token(
                grantType=DEVICE_GRANT,
                deviceCode=device.device_code,
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _STILL_WAITING:
                return _STILL_WAITING[code]
            with oidc_errors(root, "device sign-in"):
                raise
        except BotoCoreError:
            with oidc_errors(root, "device sign-in"):
                raise
        return _token_from(root, response, registration)

    return device_grant.poll(device, deadline, root.profile, attempt)


_STILL_WAITING = {
    "AuthorizationPendingException": device_grant.PENDING,
    "SlowDownException": device_grant.SLOW_DOWN,
}
