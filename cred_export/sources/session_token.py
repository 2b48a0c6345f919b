"""Long-term keys → session credentials (STS GetSessionToken), optionally with MFA."""

from __future__ import annotations

from cred_export import log
from cred_export.errors import UpstreamError
from cred_export.sts import Keys, call_with_duration_fallback, sts_client, upstream_errors

DEFAULT_DURATION = 12 * 3600


def get_session_token(
    profile: str,
    keys: Keys,
    *,
    mfa_serial: str | None = None,
    mfa_code: str | None = None,
    duration: int | None = None,
) -> Keys:
    client = sts_client(profile, keys)

    def call(seconds: int | None) -> dict:
        params: dict[str, object] = {"DurationSeconds": seconds or DEFAULT_DURATION}
        if mfa_serial:
            params.update(SerialNumber=mfa_serial, TokenCode=mfa_code)
        return client.get_session_token(**params)

    log.debug(f"profile {profile}: STS GetSessionToken")
    with upstream_errors("STS GetSessionToken", profile):
        response = call_with_duration_fallback(call, duration or DEFAULT_DURATION, profile)
    return keys_from_sts(response.get("Credentials"), "STS GetSessionToken", profile)


def keys_from_sts(data: object, what: str, profile: str) -> Keys:
    """The keys in an STS `Credentials` member; UpstreamError when it is missing or incomplete."""
    try:
        return Keys(
            data["AccessKeyId"],  # type: ignore[index]
            data["SecretAccessKey"],  # type: ignore[index]
            data["SessionToken"],  # type: ignore[index]
            data["Expiration"].timestamp(),  # type: ignore[index]
        )
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
        raise UpstreamError(f"{what} for profile {profile!r} answered without complete credentials") from None
