"""Console credentials with time left: from the session file, renewed under a lock, or signed in for.

The session file is the state every tool shares, so renewal goes through the single-flight
renewal on the file itself (one lock per session, the file read again under it): any number of
concurrent exports make one `CreateOAuth2Token` call, whatever cache cred-export itself uses.
The refresh token rotates; when another tool (the AWS CLI, botocore) renewed the file between
our read and our call, the refusal is answered by what that tool wrote.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from typing import TextIO
from urllib.parse import parse_qs, quote

from cred_export import files, log
from cred_export.aws.config import set_profile_setting
from cred_export.console import cache, dpop, service
from cred_export.console.cache import ConsoleSession
from cred_export.credentials import grace_for, min_handout_for, refresh_ahead_for
from cred_export.errors import CredExportError, LoginRequired, UpstreamError
from cred_export.login import terminal
from cred_export.login.browser_sign_in import AuthorizeRequest, CodeGrant, Redirect, browser_sign_in
from cred_export.login.exclusive import sign_in_once
from cred_export.login.pkce import pkce_pair
from cred_export.renew import renewal
from cred_export.renew.lock import file_lock_name, holding_file

# The windows of 15-minute credentials (see cred_export.credentials): renewed in the second half
# of their life, never handed out with less than 6 minutes.
WINDOW = renewal.Window(
    refresh_ahead=refresh_ahead_for(cache.CREDENTIALS_LIFETIME, cache.CREDENTIALS_LIFETIME),
    min_handout=min_handout_for(cache.CREDENTIALS_LIFETIME),
    grace=grace_for(cache.CREDENTIALS_LIFETIME),
)
REDIRECT_PATH = "/oauth/callback"
CONFIRMATION_PATH = "/v1/sessions/confirmation"


class _SessionFile:
    """One console session's file, as a `renewal.Renewable`."""

    def __init__(self, profile: str, session_arn: str) -> None:
        self.profile = profile
        self.path = cache.path_for(session_arn)
        self.what = f"the console session of profile {profile!r}"
        self.lock_name = file_lock_name(self.path)  # `clear` and sign-ins hold it too

    def window(self, value: ConsoleSession | None) -> renewal.Window:
        return WINDOW

    def read(self) -> ConsoleSession | None:
        return cache.load(self.path)

    def expiry(self, value: ConsoleSession) -> float:
        return value.expires_at

    def renew(self, current: ConsoleSession | None) -> ConsoleSession:
        if current is None:
            raise LoginRequired(self.profile, self._why_missing())
        try:
            return self._refresh(current)
        except LoginRequired:
            renewed_elsewhere = self.read()  # another tool may have rotated the token meanwhile
            if renewed_elsewhere is None or renewed_elsewhere.refresh_token == current.refresh_token:
                raise
            log.debug(f"profile {self.profile}: the console session was renewed by another tool")
            if renewed_elsewhere.seconds_left() >= WINDOW.refresh_ahead:
                return renewed_elsewhere
            return self._refresh(renewed_elsewhere)

    def _refresh(self, current: ConsoleSession) -> ConsoleSession:
        signin = service.client(self.profile, current.sign_in_region)
        token_input = {
            "clientId": current.client_id,
            "grantType": "refresh_token",
            "refreshToken": current.refresh_token,
        }
        output = service.create_token(signin, current.dpop_key, token_input, self.profile)
        try:
            return current.renewed(output, time.time())
        except (KeyError, TypeError, ValueError):
            raise UpstreamError(
                f"{service.WHAT} for profile {self.profile!r} answered without complete credentials",
                profile=self.profile,
            ) from None

    def write(self, value: ConsoleSession) -> None:
        try:
            cache.save(self.path, value)
        except OSError as exc:  # a read-only or full disk: use it now, sign in next time
            log.warn(f"could not save the renewed console session to {self.path}: {exc.strerror}")

    def grace_warning(self, error: CredExportError, seconds_left: float) -> str:
        return f"{error} — using console credentials that expire in {seconds_left / 60:.0f} min"

    def _why_missing(self) -> str:
        if os.path.exists(self.path):
            return f"the console session file {self.path} is unreadable, or not this user's own file"
        return "no console session on this machine; aws login works too"


def usable(profile: str, session_arn: str) -> ConsoleSession:
    """The session with credentials good for a while, renewing it when due; else LoginRequired."""
    if not session_arn:
        raise LoginRequired(profile, "the profile's login_session is empty")
    return renewal.obtain(_SessionFile(profile, session_arn), grace_on=(UpstreamError,))


def sign_in(profile: str, session_arn: str, *, flow: str, deadline: float, out: TextIO) -> None:
    """Sign in as `aws login` does, one sign-in per machine; the profile's `login_session` is set
    to whoever signed in, and their session file written for every tool to use."""
    sign_in_once(
        profile,
        flow=flow,
        deadline=deadline,
        out=out,
        already_signed_in=lambda: usable(profile, session_arn),
        browser=lambda: _same_device(profile, deadline, out),
        device=lambda: _cross_device(profile, deadline, out),
    )


def _new_state() -> str:
    return str(uuid.uuid4())  # the form `aws login` sends


def _same_device(profile: str, deadline: float, out: TextIO) -> None:
    """Authorization code + PKCE in this machine's browser, the redirect received on 127.0.0.1."""
    browser_sign_in(
        profile,
        where="AWS",
        redirect=Redirect(REDIRECT_PATH),
        authorize_url=lambda request: _authorize_url(profile, service.SAME_DEVICE, request),
        redeem=lambda grant: _signed_in(profile, service.SAME_DEVICE, grant),
        deadline=deadline,
        out=out,
        make_state=_new_state,
    )


def _cross_device(profile: str, deadline: float, out: TextIO) -> None:
    """Sign in on any device; the code its page shows is pasted here. Only at a terminal."""
    if not terminal.available():
        raise LoginRequired(
            profile,
            "no browser can be opened here, and signing in on another device needs a terminal to paste"
            f" the code into: run cred-export login --profile {profile} --remote in one",
        )
    state, (verifier, challenge) = _new_state(), pkce_pair()
    redirect_uri = service.sign_in_base(service.client(profile, None)) + CONFIRMATION_PATH
    url = _authorize_url(profile, service.CROSS_DEVICE, AuthorizeRequest(redirect_uri, state, challenge))
    print(f"Sign in to AWS on any device, at:\n{url}", file=out, flush=True)
    pasted = terminal.ask("Enter the authorization code displayed in your browser: ", deadline)
    if not pasted:
        raise LoginRequired(profile, "no authorization code was entered in time")
    code = _pasted_code(pasted, state, profile)
    _signed_in(profile, service.CROSS_DEVICE, CodeGrant(code, verifier, redirect_uri))


def _signed_in(profile: str, client_id: str, grant: CodeGrant) -> None:
    """Redeem the code with a new DPoP key, write the session file, point the profile's
    `login_session` at it."""
    key_pem = dpop.key_pem(dpop.new_key())
    signin = service.client(profile, None)
    token_input = {
        "clientId": client_id,
        "grantType": "authorization_code",
        "code": grant.code,
        "codeVerifier": grant.code_verifier,
        "redirectUri": grant.redirect_uri,
    }
    output = service.create_token(signin, key_pem, token_input, profile)
    try:
        arn = cache.identity_of(output.get("idToken"))  # type: ignore[arg-type]
        document = cache.new_document(output, client_id, key_pem, cache.account_of(arn), time.time())
    except (KeyError, TypeError, ValueError):
        raise UpstreamError(
            f"{service.WHAT} for profile {profile!r} answered the sign-in without a complete session",
            profile=profile,
        ) from None
    cache_file = cache.path_for(arn)
    with holding_file(cache_file, WINDOW.lock_timeout, f"the console session of profile {profile!r}"):
        files.write_private(cache_file, json.dumps(document))
    set_profile_setting(profile, "login_session", arn)
    log.debug(f"profile {profile}: signed in as {arn}; session in {cache_file}")


def _authorize_url(profile: str, client_id: str, request: AuthorizeRequest) -> str:
    """The sign-in page, with the parameters in the order and encoding `aws login` uses."""
    base = service.sign_in_base(service.client(profile, None))
    parameters = {
        "response_type": "code",
        "client_id": client_id,
        "state": request.state,
        "code_challenge_method": "SHA-256",  # what the service takes (RFC 7636 calls it S256)
        "scope": "openid",
        "redirect_uri": request.redirect_uri,
        "code_challenge": request.code_challenge,
    }
    query = "&".join(f"{name}={quote(value, safe='-._~')}" for name, value in parameters.items())
    return f"{base}/v1/authorize?{query}"


def _pasted_code(pasted: str, state: str, profile: str) -> str:
    """The code in what the confirmation page shows: base64 of `state=…&code=…`."""
    try:
        fields = parse_qs(base64.b64decode(pasted.strip(), validate=True).decode("utf-8"))
        code, returned_state = fields["code"][0], fields["state"][0]
    except (ValueError, KeyError, IndexError, UnicodeDecodeError):
        raise LoginRequired(profile, "that is not the code the sign-in page shows") from None
    if returned_state != state:
        raise LoginRequired(profile, "that code belongs to another sign-in")
    return code
