"""A valid id_token for an OIDC profile: stored, renewed with the refresh token, or signed in for.

The refresh token and the latest id_token live in the credential store (the OS keyring, or
the file store where no keyring exists), keyed by issuer and client. Renewal may rotate the
refresh token, so it goes through the single-flight renewal (a lock per session, the store read
again under it).
"""

from __future__ import annotations

import secrets
import time
from typing import Any, TextIO

from cred_export import log
from cred_export.errors import CredExportError, LoginRequired, UpstreamError
from cred_export.idp import oidc
from cred_export.idp.id_token import validate
from cred_export.idp.profiles import OidcProfile
from cred_export.login.browser_sign_in import Redirect, browser_sign_in
from cred_export.login.device import show_device_code
from cred_export.login.exclusive import sign_in_once
from cred_export.renew import renewal
from cred_export.stores import StoreUnavailable
from cred_export.stores.base import Store
from cred_export.stores.cache_key import digest
from cred_export.util import http
from cred_export.util.jwt_claims import unverified_claims

MIN_ID_TOKEN_SECONDS = 120  # STS must still accept it when the call arrives
WINDOW = renewal.Window(refresh_ahead=MIN_ID_TOKEN_SECONDS, min_handout=MIN_ID_TOKEN_SECONDS)


class IdToken:
    def __init__(self, token: str, claims: dict[str, Any], refresh_token: str | None = None) -> None:
        self.token = token
        self.claims = claims
        self.refresh_token = refresh_token  # the one that came with it, to keep

    @property
    def expires_at(self) -> float:
        return float(self.claims["exp"])


def _key(profile: OidcProfile, kind: str) -> str:
    return digest({"type": f"oidc-{kind}", "issuer": profile.issuer, "client_id": profile.client_id})


def client_secret_key(profile: OidcProfile) -> str:
    return _key(profile, "client-secret")


def session_keys(profile: OidcProfile) -> list[str]:
    """The store entries of a sign-in session (not the client secret, which is configuration)."""
    return [_key(profile, "refresh"), _key(profile, "id-token")]


def stored_session(store: Store, profile: OidcProfile) -> tuple[float | None, bool]:
    """(the stored id_token's expiry, whether a refresh token is kept), read without network."""
    expiry, _, _ = (store.get_text(_key(profile, "id-token")) or "").partition("\n")
    renewable = store.get_text(_key(profile, "refresh")) is not None
    return (float(expiry) if expiry.isdigit() else None), renewable


class _StoredSession:
    """The id_token and refresh token a store keeps for one provider and client (a Renewable)."""

    def __init__(self, profile: OidcProfile, store: Store) -> None:
        self.profile, self.store = profile, store
        self.what = f"the OIDC session of profile {profile.name!r}"
        self.lock_name = "oidc-" + _key(profile, "refresh")

    def window(self, value: IdToken | None) -> renewal.Window:
        return WINDOW

    def read(self) -> IdToken | None:
        try:
            return _stored_id_token(self.store, self.profile)
        except StoreUnavailable as exc:
            log.warn(f"could not read the OIDC session: {exc}", topic="store-read")
            return None

    def expiry(self, value: IdToken) -> float:
        return value.expires_at

    def renew(self, current: IdToken | None) -> IdToken:
        profile = self.profile
        refresh_token = self.store.get_text(_key(profile, "refresh"))
        if not refresh_token:
            raise LoginRequired(profile.name, "no OIDC session")
        provider = oidc.discover(profile)
        log.debug(f"profile {profile.name}: renewing the id_token with the refresh token")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "scope": " ".join(profile.scopes),
        }
        try:
            response = oidc.token_request(profile, provider, form, _client_secret(self.store, profile))
        except http.OAuthError as exc:
            failure = oidc.refused(profile, exc, "the session renewal")
            if isinstance(failure, LoginRequired):
                self.store.delete(_key(profile, "refresh"))  # spent or revoked: do not present it again
            raise failure from None
        return _validated(profile, provider, response, nonce=None, refresh_token=refresh_token)

    def write(self, value: IdToken) -> None:
        try:
            keep(self.store, self.profile, value)
        except StoreUnavailable as exc:  # used now; the next call may have to sign in
            log.warn(f"could not keep the renewed OIDC session: {exc}", topic="store-write")

    def grace_warning(self, error: CredExportError, seconds_left: float) -> str:
        return f"{error}; using the id_token for its last {seconds_left / 60:.0f} min"


def usable_id_token(profile: OidcProfile, store: Store) -> IdToken:
    """A validated id_token with time left, renewing silently; LoginRequired otherwise."""
    return renewal.obtain(_StoredSession(profile, store), grace_on=())


def sign_in(profile: OidcProfile, store: Store, *, flow: str, deadline: float, out: TextIO) -> IdToken:
    def signed_in(device: bool) -> IdToken:
        provider = oidc.discover(profile)
        secret = _client_secret(store, profile)
        if device:
            response, nonce = _device_flow(profile, provider, secret, deadline, out), None
        else:
            response, nonce = _browser_flow(profile, provider, secret, deadline, out)
        token = _validated(profile, provider, response, nonce=nonce, refresh_token=None)
        keep(store, profile, token)
        return token

    return sign_in_once(
        profile.name,
        flow=flow,
        deadline=deadline,
        out=out,
        already_signed_in=lambda: usable_id_token(profile, store),
        browser=lambda: signed_in(device=False),
        device=lambda: signed_in(device=True),
    )


def _browser_flow(
    profile: OidcProfile, provider: oidc.Provider, secret: str | None, deadline: float, out: TextIO
) -> tuple[dict[str, Any], str]:
    nonce = secrets.token_urlsafe(24)
    response = browser_sign_in(
        profile.name,
        where=profile.issuer,
        redirect=Redirect(profile.redirect_path, profile.redirect_port, profile.redirect_host),
        authorize_url=lambda request: oidc.authorize_url(profile, provider, request, nonce),
        redeem=lambda grant: oidc.redeem_code(profile, provider, grant, secret),
        deadline=deadline,
        out=out,
        refused="the identity provider refused the sign-in",
    )
    return response, nonce


def _device_flow(
    profile: OidcProfile, provider: oidc.Provider, secret: str | None, deadline: float, out: TextIO
) -> dict[str, Any]:
    device = oidc.start_device(profile, provider, secret)
    show_device_code(device, profile.issuer, out)
    return oidc.poll_device(profile, provider, device, secret, deadline)


def _validated(
    profile: OidcProfile,
    provider: oidc.Provider,
    response: dict[str, Any],
    *,
    nonce: str | None,
    refresh_token: str | None,
) -> IdToken:
    """The answer's id_token, validated; with the refresh token to keep (new, else the old one)."""
    token = response.get("id_token")
    if not isinstance(token, str) or not token:
        raise UpstreamError(
            f'{profile.issuer} returned no id_token (is the "openid" scope granted?)', profile=profile.name
        )
    claims = validate(token, provider, profile.client_id, nonce)
    new_refresh = response.get("refresh_token") or refresh_token
    return IdToken(token, claims, str(new_refresh) if new_refresh else None)


def keep(store: Store, profile: OidcProfile, token: IdToken) -> None:
    """Store the id_token, and its refresh token when it has one."""
    if token.refresh_token:
        store.put_text(_key(profile, "refresh"), token.refresh_token)
    store.put_text(_key(profile, "id-token"), f"{int(token.expires_at)}\n{token.token}")


def _stored_id_token(store: Store, profile: OidcProfile) -> IdToken | None:
    text = store.get_text(_key(profile, "id-token"))
    expiry, _, token = (text or "").partition("\n")
    if not expiry.isdigit() or int(expiry) - time.time() < MIN_ID_TOKEN_SECONDS or not token:
        return None
    claims = unverified_claims(token)  # validated when it was stored; the store is private
    if not claims:
        return None
    return IdToken(token, {**claims, "exp": int(expiry)})


def _client_secret(store: Store, profile: OidcProfile) -> str | None:
    return store.get_text(client_secret_key(profile)) or None
