"""A usable SSO access token: cached, silently renewed, or signed in for interactively.

Renewal rotates the refresh token, so it goes through the single-flight renewal (one lock per
token file, the file read again under it): concurrent callers renew once and never present a
spent refresh token. A refused refresh token is dropped from the file, so the next call says
"sign in" at once instead of asking the server again.
"""

from __future__ import annotations

from typing import TextIO

from cred_export import log
from cred_export.errors import CredExportError, LoginRequired, UpstreamError
from cred_export.login.browser_sign_in import Redirect, browser_sign_in
from cred_export.login.device import show_device_code
from cred_export.login.exclusive import sign_in_once
from cred_export.renew import renewal
from cred_export.renew.lock import file_lock_name, holding_file
from cred_export.sso import oidc, tokens
from cred_export.sso.settings import SsoSettings
from cred_export.sso.tokens import SsoToken
from cred_export.util.text import time_left

RENEW_WINDOW = 15 * 60  # renew access tokens with less than this left (as the AWS CLI does)
MIN_USABLE = 60  # an access token with less than this left is not worth a portal call
WINDOW = renewal.Window(refresh_ahead=RENEW_WINDOW, min_handout=MIN_USABLE, grace=MIN_USABLE - 1)


class _CachedToken:
    """The AWS CLI's token file for one SSO sign-in, as a `renewal.Renewable`."""

    def __init__(self, sso: SsoSettings) -> None:
        self.sso = sso
        self.what = f"the SSO token of profile {sso.profile!r}"
        self.lock_name = file_lock_name(tokens.path_for(sso))  # `clear` and sign-ins hold it too

    def window(self, value: SsoToken | None) -> renewal.Window:
        return WINDOW

    def read(self) -> SsoToken | None:
        return tokens.load(self.sso)

    def expiry(self, value: SsoToken) -> float:
        return value.expires_at

    def renew(self, current: SsoToken | None) -> SsoToken:
        if current is None or not current.can_refresh:
            if current is not None and current.seconds_left() >= MIN_USABLE:
                return current  # nothing to renew with, but it works for a while yet
            why = "no valid SSO token" if current is None else "the SSO token has expired"
            raise LoginRequired(self.sso.profile, why)
        log.debug(f"renewing the SSO token for {self.sso.start_url} ({time_left(current.seconds_left())})")
        try:
            return oidc.refresh(self.sso, current)
        except LoginRequired as exc:
            # The AWS CLI and botocore rewrite the file without our lock: when one of them rotated
            # the refresh token meanwhile, what it wrote is the session, not a reason to end it.
            renewed_elsewhere = self.read()
            if renewed_elsewhere is None or renewed_elsewhere.refresh_token == current.refresh_token:
                tokens.save(self.sso, current.without_refresh_token())  # refused: never presented again
                raise LoginRequired(self.sso.profile, "the SSO session has ended", code=exc.code) from None
            log.debug(f"profile {self.sso.profile}: the SSO token was renewed by another tool")
            if renewed_elsewhere.seconds_left() >= RENEW_WINDOW or not renewed_elsewhere.can_refresh:
                return renewed_elsewhere  # its own expiry decides from here
            return oidc.refresh(self.sso, renewed_elsewhere)

    def write(self, value: SsoToken) -> None:
        try:
            tokens.save(self.sso, value)
        except OSError as exc:  # a read-only or full disk: use the token now, sign in next time
            log.warn(f"could not save the renewed SSO token to {tokens.path_for(self.sso)}: {exc.strerror}")

    def grace_warning(self, error: CredExportError, seconds_left: float) -> str:
        return f"could not renew the SSO token; using it for its last {seconds_left / 60:.0f} min"


def usable_token(sso: SsoSettings) -> SsoToken:
    """A token good for a portal call, renewing it silently if needed; else LoginRequired."""
    return renewal.obtain(_CachedToken(sso), grace_on=(UpstreamError,))


def sign_in(sso: SsoSettings, *, flow: str, deadline: float, out: TextIO) -> SsoToken:
    """Interactive sign-in, one per machine at a time; returns (and caches) the new token.

    `flow` is "browser" (authorization code + PKCE), "device" (device authorization) or
    "auto"; `deadline` is on the monotonic clock. Messages for the user go to `out`.
    """

    def signed_in(token: SsoToken) -> SsoToken:
        what = f"the SSO token of profile {sso.profile!r}"
        with holding_file(tokens.path_for(sso), WINDOW.lock_timeout, what):
            tokens.save(sso, token)
        return token

    return sign_in_once(
        sso.profile,
        flow=flow,
        deadline=deadline,
        out=out,
        already_signed_in=lambda: usable_token(sso),
        browser=lambda: signed_in(_browser_flow(sso, deadline, out)),
        device=lambda: signed_in(_device_flow(sso, deadline, out)),
    )


def _browser_flow(sso: SsoSettings, deadline: float, out: TextIO) -> SsoToken:
    client = oidc.client(sso)
    registration = oidc.register(sso, client, for_browser=True)
    return browser_sign_in(
        sso.profile,
        where=sso.start_url,
        redirect=Redirect(oidc.REDIRECT_PATH),
        authorize_url=lambda request: oidc.authorize_url(sso, client, registration, request),
        redeem=lambda grant: oidc.redeem_code(sso, client, registration, grant),
        deadline=deadline,
        out=out,
    )


def _device_flow(sso: SsoSettings, deadline: float, out: TextIO) -> SsoToken:
    client = oidc.client(sso)
    registration = oidc.register(sso, client, for_browser=False)
    device = oidc.start_device_authorization(sso, client, registration)
    show_device_code(device, sso.start_url, out)
    return oidc.poll_device_token(sso, client, registration, device, deadline)
