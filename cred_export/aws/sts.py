"""Every STS call cred-export makes. Those that give credentials (GetSessionToken, AssumeRole,
AssumeRoleWithSAML, AssumeRoleWithWebIdentity) go through `_call`: one client, duration
fallback, error mapping and reading of the answer for all. `doctor`'s GetCallerIdentity, which
gives none, shares the client and reports botocore's errors as they come."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from botocore import xform_name
from botocore.exceptions import BotoCoreError

from cred_export import log
from cred_export.aws.clients import (
    CLIENT_CONFIG,
    UNSIGNED_CONFIG,
    aws_errors,
    call_with_duration_fallback,
    profile_session,
    unsigned_client,
)
from cred_export.credentials import MIN_HANDOUT_SECONDS, Keys
from cred_export.errors import ConfigError, UpstreamError

DEFAULT_SESSION_DURATION = 12 * 3600  # what cred-export asks GetSessionToken for
DEFAULT_ROLE_DURATION = 3600  # what AssumeRole gives without DurationSeconds, and web identity asks
# Credentials that arrive more than this far into their own life come from a clock that disagrees.
CLOCK_TOLERANCE = 120


def _signed_client(profile: str | None, keys: Keys) -> Any:
    """An STS client signed with `keys`, honouring the profile's region and endpoint settings."""
    signing = {
        "aws_access_key_id": keys.access_key_id,
        "aws_secret_access_key": keys.secret_access_key,
        "aws_session_token": keys.session_token,
    }
    try:
        return profile_session(profile).create_client("sts", config=CLIENT_CONFIG, **signing)
    except BotoCoreError as exc:
        raise ConfigError(f"cannot set up STS for profile {profile!r}: {exc}") from None


def get_caller_identity(profile: str, keys: Keys | None, *, on_date: Callable[[float], None]) -> dict:
    """Who `keys` are, for `doctor` (None: unsigned, asked only for the time, and refused).

    `on_date` gets the `Date` of the answer, read before botocore parses the body, so that even a
    refusal tells AWS's time. botocore's errors are raised as they come: doctor reports them.
    """
    if keys is None:
        client = profile_session(profile).create_client("sts", config=UNSIGNED_CONFIG)
    else:
        client = _signed_client(profile, keys)

    def remember(response_dict: dict[str, Any], **_kwargs: Any) -> None:
        date = _http_date(response_dict.get("headers", {}).get("date", ""))
        if date is not None:
            on_date(date)

    client.meta.events.register("before-parse.sts.GetCallerIdentity", remember)
    return client.get_caller_identity()


def _http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def get_session_token(
    profile: str,
    keys: Keys,
    *,
    mfa_serial: str | None = None,
    mfa_code: str | None = None,
    duration: int | None = None,
) -> Keys:
    """Long-term keys → session credentials (12 h unless told), optionally with an MFA code."""
    params: dict[str, object] = {"SerialNumber": mfa_serial, "TokenCode": mfa_code} if mfa_serial else {}
    return _call(
        "GetSessionToken",
        params,
        profile=profile,
        signed_with=keys,
        duration=duration or DEFAULT_SESSION_DURATION,
        dated_by=DEFAULT_SESSION_DURATION,
    )


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
    params: dict[str, object] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name or f"cred-export-{int(time.time())}",
    }
    if external_id:
        params["ExternalId"] = external_id
    return _call(
        "AssumeRole",
        params,
        profile=target_profile,
        role_arn=role_arn,
        signed_with=keys,
        signer_profile=signer_profile,
        duration=duration,
        dated_by=DEFAULT_ROLE_DURATION,
    )


def assume_role_with_saml(
    profile: str, *, role_arn: str, principal_arn: str, assertion: str, region: str, duration: int | None
) -> Keys:
    """A SAML assertion → the role's credentials (unsigned: the assertion is the proof)."""
    params = {"RoleArn": role_arn, "PrincipalArn": principal_arn, "SAMLAssertion": assertion}
    return _call(
        "AssumeRoleWithSAML", params, profile=profile, role_arn=role_arn, region=region, duration=duration
    )


def assume_role_with_web_identity(
    profile: str, *, role_arn: str, session_name: str, token: str, region: str, duration: int | None
) -> Keys:
    """An OIDC id_token → the role's credentials (unsigned: the token is the proof); 1 h unless told."""
    params = {"RoleArn": role_arn, "RoleSessionName": session_name, "WebIdentityToken": token}
    return _call(
        "AssumeRoleWithWebIdentity",
        params,
        profile=profile,
        role_arn=role_arn,
        region=region,
        duration=duration or DEFAULT_ROLE_DURATION,
    )


def _call(
    action: str,
    params: dict[str, object],
    *,
    profile: str,
    role_arn: str | None = None,
    signed_with: Keys | None = None,
    signer_profile: str | None = None,
    region: str | None = None,
    duration: int | None = None,
    dated_by: int | None = None,
) -> Keys:
    """Every STS call: the client, the duration fallback, the error mapping, the keys returned.

    - the client: signed with `signed_with` and the region and endpoint settings of
      `signer_profile` (default `profile`), else unsigned in `region`; either way every HTTP
      exchange is bounded by `deadline` (see `clients.botocore_session`);
    - `duration`: the DurationSeconds asked for (None: left to STS); above the role's maximum,
      asked again once at 3600 s (`clients.call_with_duration_fallback`);
    - errors: `clients.aws_errors`, as "STS <action> <role>" for `profile`, whose credentials these
      become;
    - `dated_by`: the lifetime STS gives when DurationSeconds is left out. Given, the credentials
      are dated by their expiry (Expiration minus the lifetime asked for); the federation calls
      leave it out, and their credentials count as issued now, by this machine's clock.
    """
    what = f"STS {action}" + (f" {role_arn}" if role_arn else "")
    signer = signer_profile or profile
    client = _signed_client(signer, signed_with) if signed_with else unsigned_client("sts", region)
    operation = getattr(client, xform_name(action))
    asked: list[int | None] = []

    def call(seconds: int | None) -> dict:
        asked.append(seconds)
        return operation(**params, **({"DurationSeconds": seconds} if seconds else {}))

    session_name = params.get("RoleSessionName")
    log.debug(f"profile {signer}: {what}" + (f" as {session_name}" if session_name else ""))
    with aws_errors(what, profile):
        response = call_with_duration_fallback(call, duration, signer)
    lifetime = (asked[-1] or dated_by) if dated_by else None
    return _keys_from(response.get("Credentials"), what, profile, lifetime)


def _keys_from(data: object, what: str, profile: str, duration: int | None = None) -> Keys:
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
