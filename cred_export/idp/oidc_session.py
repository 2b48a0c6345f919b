"""A valid id_token for an OIDC profile: stored, renewed with the refresh token, or signed in for.

The refresh token and the latest id_token live in the credential store (the OS keyring, or
the file store where no keyring exists), keyed by issuer and client. Renewal may rotate the
refresh token, so it runs under a lock per key and re-reads the store after taking it.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, TextIO

from cred_export import http, log
from cred_export.chain import OidcRoot, digest
from cred_export.errors import LoginRequired, UpstreamError, sign_in_required
from cred_export.idp import oidc
from cred_export.idp.id_token import validate
from cred_export.idp.profiles import OidcProfile
from cred_export.lock import KeyLock
from cred_export.login.browser import can_open_browser
from cred_export.login.device import show_device_code, show_sign_in_url
from cred_export.login.exclusive import exclusive_sign_in
from cred_export.login.loopback import LoopbackReceiver
from cred_export.sso.oidc import pkce_pair
from cred_export.stores.base import Store

MIN_ID_TOKEN_SECONDS = 120  # STS must still accept it when the call arrives


class IdToken:
    def __init__(self, token: str, claims: dict[str, Any]) -> None:
        self.token = token
        self.claims = claims


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


def usable_id_token(root: OidcRoot, store: Store) -> IdToken:
    """A validated id_token with time left, renewing silently; LoginRequired otherwise."""
    profile = root.settings
    stored = _stored_id_token(store, profile)
    if stored is not None:
        return stored
    if store.get_text(_key(profile, "refresh")) is None:
        raise sign_in_required(root.profile, "no OIDC session")
    lock = KeyLock("oidc-" + _key(profile, "refresh"))
    if not lock.acquire(60):
        raise UpstreamError(
            f"another process has been renewing the OIDC session of {root.profile!r} too long"
        )
    try:
        return _stored_id_token(store, profile) or _renew(root, store)
    finally:
        lock.release()


def _renew(root: OidcRoot, store: Store) -> IdToken:
    profile = root.settings
    refresh_token = store.get_text(_key(profile, "refresh"))
    if not refresh_token:
        raise sign_in_required(root.profile, "no OIDC session")
    provider = oidc.discover(profile)
    log.debug(f"profile {root.profile}: renewing the id_token with the refresh token")
    try:
        response = oidc.token_request(
            profile,
            provider,
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "scope": " ".join(profile.scopes),
            },
            _client_secret(store, profile),
        )
    except http.OAuthError as exc:
        failure = oidc.refused(profile, exc, "the session renewal")
        if isinstance(failure, LoginRequired):
            store.delete(_key(profile, "refresh"))  # spent or revoked: do not present it again
        raise failure from None
    return _keep(store, profile, provider, response, nonce=None, refresh_token=refresh_token)


def sign_in(root: OidcRoot, store: Store, *, flow: str, deadline: float, out: TextIO) -> IdToken:
    profile = root.settings
    with exclusive_sign_in(root.profile, deadline, out):
        try:  # the sign-in we may have waited for may have been for the same provider
            return usable_id_token(root, store)
        except LoginRequired:
            pass
        provider = oidc.discover(profile)
        secret = _client_secret(store, profile)
        use_device = flow == "device" or (flow == "auto" and not can_open_browser())
        log.debug(
            f"profile {root.profile}: interactive sign-in ({'device code' if use_device else 'browser'})"
        )
        if use_device:
            response, nonce = _device_flow(profile, provider, secret, deadline, out), None
        else:
            response, nonce = _browser_flow(profile, provider, secret, deadline, out)
        return _keep(store, profile, provider, response, nonce=nonce, refresh_token=None)


def _browser_flow(
    profile: OidcProfile, provider: oidc.Provider, secret: str | None, deadline: float, out: TextIO
) -> tuple[dict[str, Any], str]:
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    receiver = LoopbackReceiver(profile.redirect_path, state, profile.redirect_port, profile.redirect_host)
    query = {
        "response_type": "code",
        "client_id": profile.client_id,
        "redirect_uri": receiver.redirect_uri,
        "scope": " ".join(profile.scopes),
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **dict(profile.authorize_parameters),
    }
    separator = "&" if "?" in provider.authorization_endpoint else "?"
    url = provider.authorization_endpoint + separator + http.urlencode(query)
    show_sign_in_url(url, profile.issuer, out)
    callback = receiver.wait(deadline)
    if callback is None:
        raise sign_in_required(profile.name, "sign-in was not completed in time")
    if callback.error or not callback.code:
        raise sign_in_required(profile.name, f"the identity provider refused the sign-in: {callback.error}")
    form = {
        "grant_type": "authorization_code",
        "code": callback.code,
        "redirect_uri": receiver.redirect_uri,
        "code_verifier": verifier,
    }
    try:
        return oidc.token_request(profile, provider, form, secret), nonce
    except http.OAuthError as exc:
        raise oidc.refused(profile, exc, "the sign-in") from None


def _device_flow(
    profile: OidcProfile, provider: oidc.Provider, secret: str | None, deadline: float, out: TextIO
) -> dict[str, Any]:
    device = oidc.start_device(profile, provider, secret)
    show_device_code(device, profile.issuer, out)
    return oidc.poll_device(profile, provider, device, secret, deadline)


def _keep(
    store: Store,
    profile: OidcProfile,
    provider: oidc.Provider,
    response: dict[str, Any],
    *,
    nonce: str | None,
    refresh_token: str | None,
) -> IdToken:
    token = response.get("id_token")
    if not isinstance(token, str) or not token:
        raise UpstreamError(f'{profile.issuer} returned no id_token (is the "openid" scope granted?)')
    claims = validate(token, provider, profile.client_id, nonce)
    new_refresh = response.get("refresh_token") or refresh_token
    if new_refresh:
        store.put_text(_key(profile, "refresh"), str(new_refresh))
    store.put_text(_key(profile, "id-token"), f"{int(claims['exp'])}\n{token}")
    return IdToken(token, claims)


def _stored_id_token(store: Store, profile: OidcProfile) -> IdToken | None:
    text = store.get_text(_key(profile, "id-token"))
    expiry, _, token = (text or "").partition("\n")
    if not expiry.isdigit() or int(expiry) - time.time() < MIN_ID_TOKEN_SECONDS or not token:
        return None
    try:
        provider_claims = _unverified_claims(token)
    except ValueError:
        return None
    return IdToken(token, provider_claims)


def _unverified_claims(token: str) -> dict[str, Any]:
    """Claims of a token this process validated when it stored it (the store is private)."""
    import jwt

    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise ValueError(str(exc)) from None


def _client_secret(store: Store, profile: OidcProfile) -> str | None:
    return store.get_text(client_secret_key(profile)) or None
