"""STS calls: GetSessionToken, AssumeRole, and the clients and answers they share."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ProfileNotFound

from cred_export import log
from cred_export.aws.clients import CLIENT_CONFIG, aws_errors, botocore_session, call_with_duration_fallback
from cred_export.credentials import MIN_HANDOUT_SECONDS, Keys
from cred_export.errors import ConfigError, UpstreamError

DEFAULT_SESSION_DURATION = 12 * 3600  # what cred-export asks GetSessionToken for
DEFAULT_ROLE_DURATION = 3600  # what AssumeRole gives without DurationSeconds
# Credentials that arrive more than this far into their own life come from a clock that disagrees.
CLOCK_TOLERANCE = 120


def sts_client(profile: str | None, keys: Keys) -> Any:
    """An STS client signed with `keys`, honouring the profile's region and endpoint settings."""
    signing = {
        "aws_access_key_id": keys.access_key_id,
        "aws_secret_access_key": keys.secret_access_key,
        "aws_session_token": keys.session_token,
    }
    try:
        return botocore_session(profile).create_client("sts", config=CLIENT_CONFIG, **signing)
    except ProfileNotFound:  # cred-export's own [profiles.NAME]: botocore does not know them
        return botocore_session(None).create_client("sts", config=CLIENT_CONFIG, **signing)
    except BotoCoreError as exc:
        raise ConfigError(f"cannot set up STS for profile {profile!r}: {exc}") from None


def get_session_token(
    profile: str,
    keys: Keys,
    *,
    mfa_serial: str | None = None,
    mfa_code: str | None = None,
    duration: int | None = None,
) -> Keys:
    """Long-term keys → session credentials (12 h unless told), optionally with an MFA code."""
    client = sts_client(profile, keys)
    asked: list[int] = []

    def call(seconds: int | None) -> dict:
        asked.append(seconds or DEFAULT_SESSION_DURATION)
        params: dict[str, object] = {"DurationSeconds": asked[-1]}
        if mfa_serial:
            params.update(SerialNumber=mfa_serial, TokenCode=mfa_code)
        return client.get_session_token(**params)

    log.debug(f"profile {profile}: STS GetSessionToken")
    with aws_errors("STS GetSessionToken", profile):
        response = call_with_duration_fallback(call, duration or DEFAULT_SESSION_DURATION, profile)
    return keys_from_sts(response.get("Credentials"), "STS GetSessionToken", profile, asked[-1])


def assume_role(
    keys: Keys,
    role_arn: str,
    *,
    signer_profile: str,
    target_profile: str,
    session_name: str | None = None,
    external_id: str | None = None,
    duration: int | None = None,
) -> Keys:
    """STS AssumeRole signed with `keys` (the region and endpoint of `signer_profile`)."""
    client = sts_client(signer_profile, keys)
    params: dict[str, object] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name or f"cred-export-{int(time.time())}",
    }
    if external_id:
        params["ExternalId"] = external_id

    asked: list[int] = []

    def call(seconds: int | None) -> dict:
        asked.append(seconds or DEFAULT_ROLE_DURATION)
        return client.assume_role(**params, **({"DurationSeconds": seconds} if seconds else {}))

    what = f"STS AssumeRole {role_arn}"
    log.debug(f"profile {signer_profile}: {what}")
    with aws_errors(what, target_profile):
        response = call_with_duration_fallback(call, duration, signer_profile)
    return keys_from_sts(response.get("Credentials"), what, target_profile, asked[-1])


def keys_from_sts(data: object, what: str, profile: str, duration: int | None = None) -> Keys:
    """The keys in an STS `Credentials` member; UpstreamError when it is missing or incomplete.

    `duration` is the lifetime that was asked for, which dates their issue by their own expiry."""
    try:
        expiration = data["Expiration"].timestamp()  # type: ignore[index]
        keys = Keys(
            data["AccessKeyId"],  # type: ignore[index]
            data["SecretAccessKey"],  # type: ignore[index]
            data["SessionToken"],  # type: ignore[index]
            expiration,
            expiration - duration if duration else None,
        )
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
        raise UpstreamError(
            f"{what} for profile {profile!r} answered without complete credentials", profile=profile
        ) from None
    _warn_of_a_skewed_clock(keys, profile)
    return keys


def _warn_of_a_skewed_clock(keys: Keys, profile: str) -> None:
    """Credentials STS just issued that this clock sees well into their life, and short of the
    hand-out floor: the clocks disagree (expired ones are refused later, with their own line)."""
    if keys.issued is None or keys.expiration is None:
        return
    left = keys.expiration - time.time()
    if 0 < left < MIN_HANDOUT_SECONDS and time.time() - keys.issued > CLOCK_TOLERANCE:
        log.warn(
            f"the credentials issued for profile {profile!r} expire in {left / 60:.0f} min"
            " (is the system clock right?)",
            topic="short-lived",
        )
