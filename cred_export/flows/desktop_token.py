"""The token Claude Desktop's credential helper prints: a Bedrock API key that outlives its TTL.

The profile, region and TTL are cred-export's `[claude_desktop]` settings. A token dies at the
earlier of 12 hours after it is made and the expiry of the credentials it came from, and Claude
Desktop keeps it for the TTL: so every token handed out has at least TTL + a minute left, and the
credentials are renewed first when they have less.

Only the `interactive` context may sign in, and only in the browser (nobody sees the helper's
output); every other context uses the cache, a refresh token or a renewal, and otherwise fails
at once with "sign-in required".
"""

from __future__ import annotations

import sys
import time

from cred_export import log
from cred_export.chain import Chain
from cred_export.claude.desktop_config import (
    CONSOLE_LIFETIME_SECONDS,
    DEFAULT_LIFETIME_SECONDS,
    TTL_MARGIN_SECONDS,
    HelperChoice,
)
from cred_export.errors import ConfigError, LoginRequired
from cred_export.flows import export
from cred_export.flows.bedrock_token import bedrock_token
from cred_export.settings import load_settings

INTERACTIVE = "interactive"
# Time kept back from the helper's timeout for making the token once signed in.
AFTER_SIGN_IN_SECONDS = 20


def configured_choice() -> HelperChoice:
    """The `[claude_desktop]` settings; ConfigError naming the setup command when there are none."""
    choice = HelperChoice.from_settings(load_settings().claude_desktop)
    if choice is None:
        raise ConfigError(
            "Claude Desktop's helper is not set up:"
            " run cred-export setup claude-desktop --profile P --region R"
        )
    return choice


def helper_token(context: str) -> str:
    """The bearer token for Claude Desktop, signing in through the browser only when `interactive`."""
    choice = configured_choice()
    # The sign-in ends in time for the token to be made within the helper's timeout.
    deadline = time.monotonic() + max(5.0, choice.timeout_seconds - AFTER_SIGN_IN_SECONDS)
    try:
        return _token(choice)
    except LoginRequired:
        if context != INTERACTIVE:
            raise
    _sign_in(choice, deadline)
    return _token(choice)


def _token(choice: HelperChoice) -> str:
    made = bedrock_token(
        choice.profile, True, choice.region, allow_sign_in=False, at_least=choice.min_token_seconds
    )
    left = made.expiration - time.time()
    if left < choice.min_token_seconds:
        raise ConfigError(
            f"profile {choice.profile}'s credentials give a token only {left:.0f} s of life, less than"
            f" the {choice.ttl_seconds} s Claude Desktop keeps it plus {TTL_MARGIN_SECONDS} s: run"
            " cred-export setup claude-desktop again with a shorter --ttl"
        )
    log.debug(f"Claude Desktop token for {choice.region}: {left / 60:.0f} min left")
    return made.token


def _sign_in(choice: HelperChoice, deadline: float) -> None:
    """The chain's sign-in in the browser: authorization code + PKCE, one per machine at a time,
    over by `deadline` (monotonic clock)."""
    from cred_export.login.browser import can_open_browser
    from cred_export.stores.choose import choose_store

    if not can_open_browser():
        raise LoginRequired(choice.profile, "no browser can be opened for Claude Desktop's sign-in")
    settings = load_settings()
    chain = export.resolve(choice.profile, True, settings)
    log.debug(f"profile {choice.profile}: signing in for Claude Desktop")
    export.sign_in(chain, choose_store(settings), flow="browser", deadline=deadline, out=sys.stderr)


def credentials_lifetime(chain: Chain) -> int:
    """How long the profile's credentials last, as far as its configuration tells: the last
    role's duration_seconds (STS's default of an hour without one), 15 minutes for a console
    session, an hour otherwise."""
    if chain.roles:
        return chain.roles[-1].duration_seconds or DEFAULT_LIFETIME_SECONDS
    if chain.root.kind == "console":
        return CONSOLE_LIFETIME_SECONDS
    return DEFAULT_LIFETIME_SECONDS
