"""botocore sessions and clients with bounded network behaviour, and AWS errors as typed failures.

Every AWS call goes through a client made here and runs inside `aws_errors`, the one place a
botocore failure becomes a `LoginRequired` or an `UpstreamError` carrying the profile, the call
and the service's error code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound, ReadTimeoutError
from botocore.parsers import ResponseParserError

from cred_export import __version__
from cred_export.errors import LoginRequired, UpstreamError
from cred_export.util import bounded, deadline
from cred_export.util.text import first_line, scrub_proxy_secrets

# Every attempt: 3 s to connect, 10 s for any one read and 10 s for the whole exchange
# (`deadline.ATTEMPT_SECONDS`), 3 attempts with standard backoff, all inside the phase's deadline.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "total_max_attempts": 3},
    user_agent_extra=f"cred-export/{__version__}",
)
# For calls that carry their own proof (a token, an assertion) and must not resolve credentials.
UNSIGNED_CONFIG = CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))

# botocore's parsers raise many kinds of exception for an answer they cannot read: ResponseParserError
# (not XML/JSON), ValueError and RuntimeError (impossible timestamps), TypeError (a JSON body that is
# not an object), KeyError (no result element). Around a client call, each means a malformed answer.
MALFORMED_ANSWER = (ResponseParserError, ValueError, RuntimeError, TypeError, AttributeError, LookupError)

# What to do about an error code, where AWS's own message does not say it.
HINTS = {
    "AccessDenied": "check that the role's trust policy allows the source identity",
    "ExpiredToken": "the source credentials have expired; sign in again",
    "InvalidClientTokenId": "the access key id is not valid; check the profile's keys",
    "SignatureDoesNotMatch": "the secret access key does not match the key id",
    "RegionDisabledException": "enable STS in this region or set another region",
    "InvalidIdentityToken": "check the IAM identity provider for this issuer and the role's trust policy",
    "IDPRejectedClaim": "the role's trust policy does not accept this identity",
    "NotAuthorizedException": "the identity pool does not accept this provider's tokens",
    "ForbiddenException": "check sso_account_id and sso_role_name",
}


def botocore_session(profile: str | None) -> botocore.session.Session:
    """A session whose every client (botocore's own credential providers' included) is bounded."""
    session = botocore.session.Session(profile=profile)
    if session.get_config_variable("region") is None:
        session.set_config_variable("region", "us-east-1")
    session.register("creating-client-class", _add_deadline)
    return session


def profile_session(profile: str | None) -> botocore.session.Session:
    """`botocore_session(profile)`; cred-export's own [profiles.NAME], unknown to botocore, get none."""
    try:
        return botocore_session(profile)
    except ProfileNotFound:
        return botocore_session(None)


class NoAnswerInTime(BotoCoreError):
    """The phase's deadline passed: final, not retried (botocore retries only its own kinds)."""

    fmt = "no answer within {seconds}"


class _BoundedClient:
    """Mixed into every client class: each HTTP exchange runs under `deadline` (see `_bounded_send`).

    botocore's timeouts are per socket read, so a trickling answer is never overdue for them, and
    botocore has no hook around the whole exchange. The `before-send` event can answer a request
    in botocore's place: the handler sends it through the client's own HTTP session (its proxies,
    CA bundle and pool) on a worker thread and waits for it at most the exchange's bound. An
    overdue exchange is abandoned on that daemon thread, which holds no lock and ends with the
    process; for botocore it is a read timeout (retried), or, when the phase's deadline is what
    ran out, a final `NoAnswerInTime`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        http_session = self._endpoint.http_session  # type: ignore[attr-defined]
        self.meta.events.register_first(  # type: ignore[attr-defined]
            "before-send", lambda request, **_: _bounded_send(http_session, request)
        )


def _add_deadline(base_classes: list[type], **_: Any) -> None:
    base_classes.insert(0, _BoundedClient)


def _bounded_send(http_session: Any, request: Any) -> Any:
    try:
        seconds, last = deadline.call_bound()
    except deadline.DeadlinePassed:
        raise NoAnswerInTime(seconds=deadline.seconds_text()) from None
    try:
        return bounded.call(lambda: http_session.send(request), seconds)
    except bounded.Overdue:
        if last:
            raise NoAnswerInTime(seconds=deadline.seconds_text()) from None
        raise ReadTimeoutError(endpoint_url=request.url) from None


def unsigned_client(service: str, region: str | None) -> Any:
    """A client for calls that sign nothing; honours AWS_ENDPOINT_URL_<SERVICE> like any other."""
    return botocore_session(None).create_client(service, region_name=region, config=UNSIGNED_CONFIG)


def error_code(exc: ClientError) -> str:
    """The service's error code, printable (it reaches messages and doctor's report)."""
    return first_line(exc.response.get("Error", {}).get("Code"), 100) or "Unknown"


def error_message(exc: ClientError) -> str:
    return first_line(exc.response.get("Error", {}).get("Message"))


def translate(
    exc: ClientError, what: str, profile: str, sign_in_codes: frozenset[str] = frozenset()
) -> LoginRequired | UpstreamError:
    """The failure a refused AWS call means: sign in again (for `sign_in_codes`), or upstream."""
    code = error_code(exc)
    if code in sign_in_codes:
        return LoginRequired(profile, f"{what} was refused: {code}", code=code)
    message = error_message(exc)
    hint = HINTS.get(code)
    line = f"{what} for profile {profile!r} failed: {code}" + (f": {message}" if message else "")
    return UpstreamError(line + (f" ({hint})" if hint else ""), profile=profile, service=what, code=code)


@contextmanager
def aws_errors(what: str, profile: str, sign_in_codes: frozenset[str] = frozenset()) -> Iterator[None]:
    """Turn botocore failures inside the block into `LoginRequired` or `UpstreamError`."""
    try:
        yield
    except ClientError as exc:
        raise translate(exc, what, profile, sign_in_codes) from None
    except BotoCoreError as exc:
        raise UpstreamError(
            f"{what} for profile {profile!r} failed: {_why(exc)}; check the network or VPN",
            profile=profile,
            service=what,
        ) from None
    except MALFORMED_ANSWER:
        raise UpstreamError(
            f"{what} for profile {profile!r} failed: the service sent a malformed answer",
            profile=profile,
            service=what,
        ) from None


def _why(exc: BotoCoreError) -> str:
    """The failure's first line, with no part of a proxy's credentials in it."""
    return first_line(scrub_proxy_secrets(str(exc)))


def call_with_duration_fallback(
    call: Callable[[int | None], dict], requested: int | None, profile: str
) -> dict:
    """Run `call(duration)`; if STS says the duration is above the maximum, retry once at 3600 s."""
    try:
        return call(requested)
    except ClientError as exc:
        too_long = error_code(exc) == "ValidationError" and "DurationSeconds" in error_message(exc)
        if not too_long or requested is None or requested <= 3600:
            raise
        from cred_export import log

        log.debug(f"profile {profile}: {requested} s is above the maximum session; retrying with 3600 s")
        return call(3600)
