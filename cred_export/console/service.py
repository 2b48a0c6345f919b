"""The AWS Sign-In token service (`CreateOAuth2Token`, `POST /v1/token`) through botocore's
`signin` client: unsigned, bounded like every AWS call, each call carrying a DPoP proof.

Region and endpoint are botocore's: the session's `signInRegion` when it has one, else the
profile's region; `AWS_ENDPOINT_URL_SIGNIN` and `[services]` sections move the service, and the
browser's sign-in page moves with it (as in the AWS CLI).
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from cred_export import log
from cred_export.aws.clients import UNSIGNED_CONFIG, aws_errors, botocore_session, translate
from cred_export.console import dpop
from cred_export.errors import ConfigError, LoginRequired, UpstreamError

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
WHAT = "AWS Sign-In CreateOAuth2Token"

# The OAuth error (`error` in the answer) that means the session is over: sign in again.
SESSION_OVER = {
    "TOKEN_EXPIRED": "the console session has expired",
    "USER_CREDENTIALS_CHANGED": "the signed-in identity's credentials changed",
    "AUTHCODE_EXPIRED": "the sign-in took too long",
    "INVALID_REQUEST": "the console session was refused",
    "invalid_grant": "the console session was refused",
}
CLOCK_TOLERANCE = 60  # seconds of skew after which a refusal is blamed on this machine's clock


def client(profile: str, region: str | None) -> Any:
    """The `signin` client for the profile's endpoint settings; `region` overrides its region."""
    try:
        session = botocore_session(profile)
        session.get_scoped_config()  # ProfileNotFound now, not at the call
    except ProfileNotFound:
        session = botocore_session(None)
    try:
        return session.create_client("signin", region_name=region, config=UNSIGNED_CONFIG)
    except BotoCoreError as exc:
        raise ConfigError(f"cannot set up AWS Sign-In for profile {profile!r}: {exc}") from None


def sign_in_base(signin: Any) -> str:
    """`scheme://host` of the token endpoint: where the browser signs in (`/v1/authorize`).

    botocore resolves the operation's endpoint only when it is called, so the call is made and
    stopped before anything is sent, as the AWS CLI does.
    """

    class Resolved(Exception):
        def __init__(self, url: str) -> None:
            self.url = url

    def stop(**kwargs: Any) -> None:
        raise Resolved(kwargs["params"]["url"])

    signin.meta.events.register_first("before-call.signin.CreateOAuth2Token", stop)
    try:
        signin.create_o_auth2_token(tokenInput={"clientId": SAME_DEVICE, "grantType": "refresh_token"})
    except Resolved as resolved:
        scheme, _, rest = resolved.url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
    finally:
        signin.meta.events.unregister("before-call.signin.CreateOAuth2Token", stop)
    raise ConfigError("cannot tell where AWS Sign-In is")  # unreachable: the handler always stops it


def create_token(signin: Any, key_pem: str, token_input: dict[str, str], profile: str) -> dict[str, Any]:
    """`tokenOutput` of one CreateOAuth2Token call proved with the key in `key_pem`."""
    try:
        key = dpop.load_key(key_pem)
    except ValueError as exc:
        raise LoginRequired(profile, f"the console session file is unusable: {exc}") from None

    def add_proof(**kwargs: Any) -> None:
        kwargs["params"]["headers"]["DPoP"] = dpop.proof(key, kwargs["params"]["url"])

    signin.meta.events.register("before-call.signin.CreateOAuth2Token", add_proof)
    log.debug(f"profile {profile}: {WHAT} ({token_input['grantType']})")
    try:
        with aws_errors(WHAT, profile):
            try:
                response = signin.create_o_auth2_token(tokenInput=token_input)
            except ClientError as exc:
                raise _refused(exc, profile) from None
    finally:
        signin.meta.events.unregister("before-call.signin.CreateOAuth2Token", add_proof)
    output = response.get("tokenOutput") if isinstance(response, dict) else None
    if not isinstance(output, dict):
        raise UpstreamError(f"{WHAT} for profile {profile!r} answered without a token", profile=profile)
    return output


def _refused(exc: ClientError, profile: str) -> LoginRequired | UpstreamError:
    """What a refusal means: sign in again, a permission to ask for, or a clock to set."""
    error = str(exc.response.get("error") or "")
    skew = _clock_skew(exc)
    if skew is not None:
        direction = "ahead of" if skew > 0 else "behind"
        return UpstreamError(
            f"{WHAT} for profile {profile!r} was refused ({error or 'no reason given'}) and this machine's"
            f" clock is {abs(skew):.0f} s {direction} AWS's; check the system clock",
            profile=profile,
            service=WHAT,
            code=error or None,
        )
    if error in SESSION_OVER:
        return LoginRequired(profile, f"{SESSION_OVER[error]}; aws login works too", code=error)
    if error == "INSUFFICIENT_PERMISSIONS":
        return UpstreamError(
            f"{WHAT} for profile {profile!r} failed: INSUFFICIENT_PERMISSIONS (the signed-in identity may not"
            " use console credentials in development tools: it needs the SignInLocalDevelopmentAccess"
            " managed policy, or signin:AuthorizeOAuth2Access and signin:CreateOAuth2Token)",
            profile=profile,
            service=WHAT,
            code=error,
        )
    return translate(exc, WHAT, profile)


def _clock_skew(exc: ClientError) -> float | None:
    """This machine's clock minus AWS's, when the refusal's `Date` shows more than a minute."""
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    try:
        server = parsedate_to_datetime(headers.get("date", "")).timestamp()
    except (TypeError, ValueError):
        return None
    skew = time.time() - server
    return skew if abs(skew) > CLOCK_TOLERANCE else None
