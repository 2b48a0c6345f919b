"""A sign-in in this machine's browser: authorization code + PKCE, the code received on 127.0.0.1.

Every source that signs in in a browser (IAM Identity Center, an OIDC provider, the AWS console)
runs it the same way (RFC 8252): a fresh `state` and PKCE pair, the loopback receiver, the
sign-in address shown and a browser opened, a wait bounded by the caller's deadline, the
redirect's `state` checked, and one such sign-in per machine at a time. A source supplies only
what differs: its sign-in page's address, and how it redeems the code.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

from cred_export.errors import LoginRequired
from cred_export.login.device import show_sign_in_url
from cred_export.login.exclusive import exclusive_sign_in
from cred_export.login.loopback import LoopbackReceiver
from cred_export.login.pkce import pkce_pair

T = TypeVar("T")


@dataclass(frozen=True)
class Redirect:
    """Where the sign-in page sends the browser back: a path on 127.0.0.1."""

    path: str
    port: int = 0  # 0: any free port; some identity providers register a fixed one
    host: str = "127.0.0.1"  # what the redirect URI names; some accept only "localhost"


@dataclass(frozen=True)
class AuthorizeRequest:
    """What the sign-in page's address must carry, besides the source's own parameters."""

    redirect_uri: str
    state: str
    code_challenge: str  # the S256 challenge of the verifier that redeems the code


@dataclass(frozen=True)
class CodeGrant:
    """What redeeming the code takes: the code, its PKCE verifier and the same redirect URI."""

    code: str = field(repr=False)
    code_verifier: str = field(repr=False)
    redirect_uri: str


def random_state() -> str:
    return secrets.token_urlsafe(24)


def browser_sign_in(
    profile: str,
    *,
    where: str,
    redirect: Redirect,
    authorize_url: Callable[[AuthorizeRequest], str],
    redeem: Callable[[CodeGrant], T],
    deadline: float,
    out: TextIO,
    refused: str = "the sign-in was refused",
    make_state: Callable[[], str] = random_state,
) -> T:
    """Sign in at `authorize_url(...)` in a browser and return what `redeem` makes of the code.

    `where` names the service in the message on `out`; `deadline` (monotonic) bounds the wait
    for the machine-wide sign-in lock (already held inside `sign_in_once`) and for the redirect.
    LoginRequired when nobody signs in in time, or the sign-in page sends back an error instead
    of a code (`refused` begins that line). `make_state` makes the `state` value, for services that
    expect a particular form.
    """
    with exclusive_sign_in(profile, deadline, out):
        expected_state, (verifier, challenge) = make_state(), pkce_pair()
        receiver = LoopbackReceiver(redirect.path, expected_state, redirect.port, redirect.host)
        try:
            url = authorize_url(AuthorizeRequest(receiver.redirect_uri, expected_state, challenge))
            show_sign_in_url(url, where, out)
        except BaseException:
            receiver.close()
            raise
        callback = receiver.wait(deadline)
        if callback is None:
            raise LoginRequired(profile, "sign-in was not completed in time")
        if callback.error or not callback.code:
            raise LoginRequired(profile, f"{refused}: {callback.error or 'no code'}")
        return redeem(CodeGrant(callback.code, verifier, receiver.redirect_uri))
