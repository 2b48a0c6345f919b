"""SSO-OIDC calls: client registration, device authorization, authorization code + PKCE, refresh.

All through botocore's `sso-oidc` client (unsigned; honours AWS_ENDPOINT_URL_SSO_OIDC), with
the same bounded network settings as every other AWS call.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from cred_export import __version__, files
from cred_export.aws.clients import aws_errors, error_code, unsigned_client
from cred_export.errors import UpstreamError
from cred_export.login import device as device_grant
from cred_export.login.browser_sign_in import AuthorizeRequest, CodeGrant
from cred_export.login.device import DeviceAuthorization
from cred_export.sso import tokens
from cred_export.sso.settings import SsoSettings
from cred_export.sso.tokens import SsoToken

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


# Answers that mean the sign-in (or the refresh token) is no longer good: sign in again.
_SIGN_IN_AGAIN = frozenset({"InvalidGrantException", "ExpiredTokenException", "AccessDeniedException"})


def client(sso: SsoSettings) -> Any:
    return unsigned_client("sso-oidc", sso.region)


def endpoint(oidc: Any) -> str:
    return str(oidc.meta.endpoint_url).rstrip("/")


def oidc_errors(sso: SsoSettings, what: str):  # type: ignore[no-untyped-def]
    """`aws_errors` for an SSO-OIDC call: a refused grant means signing in again."""
    return aws_errors(f"SSO-OIDC {what}", sso.profile, _SIGN_IN_AGAIN)


def refresh(sso: SsoSettings, token: SsoToken) -> SsoToken:
    """Renew the access token with the refresh token; the refresh token rotates."""
    oidc = client(sso)
    with oidc_errors(sso, "token renewal"):
        response = oidc.create_token(
            grantType="refresh_token",
            clientId=token.client_id,
            clientSecret=token.client_secret,
            refreshToken=token.refresh_token,
        )
    return _token_from(
        sso,
        response,
        Registration(token.client_id, token.client_secret, token.registration_expires_at or 0),  # type: ignore[arg-type]
        token,
    )


def register(sso: SsoSettings, oidc: Any, *, for_browser: bool) -> Registration:
    """A client registration for this start URL, reused from disk until it nears expiry."""
    path = _registration_path(sso, for_browser)
    cached = _load_registration(path)
    if cached is not None and cached.expires_at - time.time() > REGISTRATION_MARGIN:
        return cached
    params: dict[str, Any] = {"clientName": CLIENT_NAME, "clientType": "public", "scopes": list(sso.scopes)}
    if for_browser:
        params.update(
            grantTypes=["authorization_code", "refresh_token"],
            redirectUris=[f"http://127.0.0.1{REDIRECT_PATH}"],
            issuerUrl=sso.start_url,
        )
    with oidc_errors(sso, "client registration"):
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


def _registration_path(sso: SsoSettings, for_browser: bool) -> str:
    material = json.dumps(
        {
            "tool": "cred-export",
            "startUrl": sso.start_url,
            "region": sso.region,
            "scopes": sorted(sso.scopes),
            "browser": for_browser,
        },
        sort_keys=True,
    )
    return os.path.join(tokens.cache_dir(), hashlib.sha1(material.encode()).hexdigest() + ".json")


def _load_registration(path: str) -> Registration | None:
    text = files.read_text(path, limit=64 * 1024, private=True)
    try:
        data = json.loads(text or "")
        return Registration(str(data["clientId"]), str(data["clientSecret"]), float(data["expiresAt"]))
    except (ValueError, KeyError, TypeError):
        return None


def authorize_url(sso: SsoSettings, oidc: Any, registration: Registration, request: AuthorizeRequest) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": registration.client_id,
            "redirect_uri": request.redirect_uri,
            "state": request.state,
            "code_challenge_method": "S256",
            "scopes": " ".join(sso.scopes),
            "code_challenge": request.code_challenge,
        }
    )
    return f"{endpoint(oidc)}/authorize?{query}"


def redeem_code(sso: SsoSettings, oidc: Any, registration: Registration, grant: CodeGrant) -> SsoToken:
    with oidc_errors(sso, "sign-in"):
        response = oidc.create_token(
            grantType="authorization_code",
            clientId=registration.client_id,
            clientSecret=registration.client_secret,
            code=grant.code,
            redirectUri=grant.redirect_uri,
            codeVerifier=grant.code_verifier,
        )
    return _token_from(sso, response, registration)


def _token_from(
    sso: SsoSettings, response: dict, registration: Registration, previous: SsoToken | None = None
) -> SsoToken:
    access_token, lifetime = response.get("accessToken"), response.get("expiresIn", 3600)
    if not isinstance(access_token, str) or not access_token or not isinstance(lifetime, int):
        raise UpstreamError(
            f"SSO-OIDC answered profile {sso.profile!r} without a usable access token", profile=sso.profile
        )
    refresh_token = response.get("refreshToken")
    return SsoToken(
        start_url=sso.start_url,
        region=sso.region,
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


def start_device_authorization(
    sso: SsoSettings, oidc: Any, registration: Registration
) -> DeviceAuthorization:
    with oidc_errors(sso, "device authorization"):
        response = oidc.start_device_authorization(
            clientId=registration.client_id, clientSecret=registration.client_secret, startUrl=sso.start_url
        )
    return DeviceAuthorization.starting_now(
        response["deviceCode"],
        response["userCode"],
        response.get("verificationUriComplete") or response["verificationUri"],
        int(response.get("expiresIn", 600)),
        int(response.get("interval", 5)),
    )


def poll_device_token(
    sso: SsoSettings, oidc: Any, registration: Registration, device: DeviceAuthorization, deadline: float
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
            if error_code(exc) in _STILL_WAITING:
                return _STILL_WAITING[error_code(exc)]
            with oidc_errors(sso, "device sign-in"):
                raise
        except Exception:
            with oidc_errors(sso, "device sign-in"):
                raise
        return _token_from(sso, response, registration)

    return device_grant.poll(device, deadline, sso.profile, attempt)


_STILL_WAITING = {
    "AuthorizationPendingException": device_grant.PENDING,
    "SlowDownException": device_grant.SLOW_DOWN,
}
