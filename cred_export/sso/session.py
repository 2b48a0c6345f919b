"""A usable SSO access token: cached, silently renewed, or signed in for interactively.

Renewal rotates the refresh token, so it runs under a lock per token file and re-reads the
file after taking it: concurrent callers renew once and never present a spent refresh token.
A refused refresh token is dropped from the file, so the next call says "sign in" at once
instead of asking the server again.
"""

from __future__ import annotations

import secrets
from typing import TextIO

from cred_export import errors, log
from cred_export.chain import SsoRoot
from cred_export.errors import LoginRequired, UpstreamError
from cred_export.lock import KeyLock
from cred_export.login.browser import can_open_browser
from cred_export.login.device import show_device_code, show_sign_in_url
from cred_export.login.exclusive import exclusive_sign_in
from cred_export.login.loopback import LoopbackReceiver
from cred_export.sso import oidc, tokens
from cred_export.sso.tokens import SsoToken

RENEW_WINDOW = 15 * 60  # renew access tokens with less than this left (as the AWS CLI does)
MIN_USABLE = 60  # an access token with less than this left is not worth a portal call
RENEWAL_LOCK_TIMEOUT = 60.0


def sign_in_required(root: SsoRoot, why: str = "") -> LoginRequired:
    return errors.sign_in_required(root.profile, why)


def usable_token(root: SsoRoot) -> SsoToken:
    """A token good for a portal call, renewing it silently if needed; else LoginRequired."""
    token = tokens.load(root)
    if token is not None and token.seconds_left() >= RENEW_WINDOW:
        return token
    if token is None or not token.can_refresh:
        if token is not None and token.seconds_left() >= MIN_USABLE:
            return token
        raise sign_in_required(root, "no valid SSO token" if token is None else "the SSO token has expired")
    lock = KeyLock("sso-" + tokens.cache_name(root))
    if not lock.acquire(RENEWAL_LOCK_TIMEOUT):
        raise UpstreamError(
            f"another process has been renewing the SSO token of profile {root.profile!r} too long"
        )
    try:
        return _renew(root)
    finally:
        lock.release()


def _renew(root: SsoRoot) -> SsoToken:
    token = tokens.load(root)  # another process may have renewed it while we waited
    if token is not None and token.seconds_left() >= RENEW_WINDOW:
        log.debug("SSO token renewed by another process meanwhile")
        return token
    if token is None or not token.can_refresh:
        raise sign_in_required(root, "the SSO token has expired")
    log.debug(f"renewing the SSO token for {root.start_url} ({token.seconds_left() / 60:.0f} min left)")
    try:
        renewed = oidc.refresh(root, token)
    except LoginRequired:
        tokens.save(root, token.without_refresh_token())
        raise sign_in_required(root, "the SSO session has ended") from None
    except UpstreamError:
        if token.seconds_left() >= MIN_USABLE:
            log.warn(
                f"could not renew the SSO token; using it for its last {token.seconds_left() / 60:.0f} min"
            )
            return token
        raise
    try:
        tokens.save(root, renewed)
    except OSError as exc:  # a read-only or full disk: use the token now, sign in next time
        log.warn(f"could not save the renewed SSO token to {tokens.path_for(root)}: {exc.strerror}")
    return renewed


def sign_in(root: SsoRoot, *, flow: str, deadline: float, out: TextIO) -> SsoToken:
    """Interactive sign-in, one per machine at a time; returns (and caches) the new token.

    `flow` is "browser" (authorization code + PKCE), "device" (device authorization) or
    "auto" (the browser where one can be opened, else the device flow). `deadline` is on
    the monotonic clock. Messages for the user go to `out`.
    """
    with exclusive_sign_in(root.profile, deadline, out):
        try:  # the sign-in we may have waited for may have been for the same session
            return usable_token(root)
        except LoginRequired:
            pass
        client = oidc.client(root)
        use_device = flow == "device" or (flow == "auto" and not can_open_browser())
        log.debug(
            f"profile {root.profile}: interactive sign-in ({'device code' if use_device else 'browser'})"
        )
        token = (_device_flow if use_device else _browser_flow)(root, client, deadline, out)
        tokens.save(root, token)
        return token


def _browser_flow(root: SsoRoot, client: object, deadline: float, out: TextIO) -> SsoToken:
    registration = oidc.register(root, client, for_browser=True)
    state = secrets.token_urlsafe(24)
    verifier, challenge = oidc.pkce_pair()
    receiver = LoopbackReceiver(oidc.REDIRECT_PATH, state)
    url = oidc.authorize_url(root, client, registration, receiver.redirect_uri, state, challenge)
    show_sign_in_url(url, root.start_url, out)
    callback = receiver.wait(deadline)
    if callback is None:
        raise sign_in_required(root, "sign-in was not completed in time")
    if callback.error or not callback.code:
        raise sign_in_required(root, f"the sign-in was refused: {callback.error or 'no code'}")
    return oidc.redeem_code(root, client, registration, callback.code, receiver.redirect_uri, verifier)


def _device_flow(root: SsoRoot, client: object, deadline: float, out: TextIO) -> SsoToken:
    registration = oidc.register(root, client, for_browser=False)
    device = oidc.start_device_authorization(root, client, registration)
    show_device_code(device, root.start_url, out)
    return oidc.poll_device_token(root, client, registration, device, deadline)
