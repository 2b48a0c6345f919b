"""STS clients with bounded network behaviour, and AWS errors turned into one-line messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from botocore.parsers import ResponseParserError

from cred_export import __version__, log
from cred_export.errors import ConfigError, UpstreamError

# Every call: 3 s to connect, 10 s to answer, 3 attempts with standard backoff (~45 s worst).
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "total_max_attempts": 3},
    user_agent_extra=f"cred-export/{__version__}",
)

_HINTS = {
    "AccessDenied": "check that the role's trust policy allows the source identity",
    "ExpiredToken": "the source credentials have expired; sign in again",
    "InvalidClientTokenId": "the access key id is not valid; check the profile's keys",
    "SignatureDoesNotMatch": "the secret access key does not match the key id",
    "RegionDisabledException": "enable STS in this region or set another region",
    "InvalidIdentityToken": "check the IAM identity provider for this issuer and the role's trust policy",
    "IDPRejectedClaim": "the role's trust policy does not accept this identity",
    "NotAuthorizedException": "the identity pool does not accept this provider's tokens",
}


# botocore's parsers raise many kinds of exception for an answer they cannot read: ResponseParserError
# (not XML/JSON), ValueError and RuntimeError (impossible timestamps), TypeError (a JSON body that is
# not an object), KeyError (no result element). Around a client call, each means a malformed answer.
MALFORMED_ANSWER = (ResponseParserError, ValueError, RuntimeError, TypeError, AttributeError, LookupError)


class Keys:
    """Credentials as a source returns them: the token and expiry may be unknown."""

    __slots__ = ("access_key_id", "expiration", "secret_access_key", "session_token")

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expiration: float | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.expiration = expiration


def botocore_session(profile: str | None) -> botocore.session.Session:
    session = botocore.session.Session(profile=profile)
    if session.get_config_variable("region") is None:
        session.set_config_variable("region", "us-east-1")
    return session


def sts_client(profile: str | None, keys: Keys) -> Any:
    """An STS client signed with `keys`, honouring the profile's region and endpoint settings."""
    try:
        session = botocore_session(profile)
        return session.create_client(
            "sts",
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            config=CLIENT_CONFIG,
        )
    except ProfileNotFound:
        return botocore_session(None).create_client(
            "sts",
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            config=CLIENT_CONFIG,
        )
    except BotoCoreError as exc:
        raise ConfigError(f"cannot set up STS for profile {profile!r}: {exc}") from None


@contextmanager
def upstream_errors(what: str, profile: str) -> Iterator[None]:
    """Translate botocore failures inside the block into `UpstreamError` lines."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        message = _first_line(str(exc.response.get("Error", {}).get("Message") or ""))
        hint = _HINTS.get(code)
        raise UpstreamError(
            f"{what} for profile {profile!r} failed: {code}: {message}" + (f" ({hint})" if hint else "")
        ) from None
    except BotoCoreError as exc:
        raise UpstreamError(
            f"{what} for profile {profile!r} failed: {_first_line(str(exc))}; check the network or VPN"
        ) from None
    except MALFORMED_ANSWER:
        raise UpstreamError(
            f"{what} for profile {profile!r} failed: the service sent a malformed answer"
        ) from None


def call_with_duration_fallback(
    call: Callable[[int | None], dict], requested: int | None, profile: str
) -> dict:
    """Run `call(duration)`; if STS says the duration is above the maximum, retry once at 3600 s."""
    try:
        return call(requested)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        too_long = error.get("Code") == "ValidationError" and "DurationSeconds" in error.get("Message", "")
        if not too_long or requested is None or requested <= 3600:
            raise
        log.debug(f"profile {profile}: {requested} s is above the maximum session; retrying with 3600 s")
        return call(3600)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 200 else line[:197] + "..."
