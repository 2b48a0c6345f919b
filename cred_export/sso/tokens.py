"""The SSO token cache, exactly where and how the AWS CLI and botocore keep it.

`~/.aws/sso/cache/<sha1(sso-session name, or start URL for legacy profiles)>.json` with the
fields `startUrl`, `region`, `accessToken`, `expiresAt`, and for renewal `clientId`,
`clientSecret`, `registrationExpiresAt`, `refreshToken`. Written atomically and 0600, so
`aws sso login` and `cred-export login` can stand in for each other.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any

from cred_export import files
from cred_export.credentials import format_iso, parse_iso
from cred_export.errors import UpstreamError
from cred_export.sso.settings import SsoSettings

_OPTIONAL = ("clientId", "clientSecret", "registrationExpiresAt", "refreshToken")


@dataclass(frozen=True)
class SsoToken:
    start_url: str
    region: str
    access_token: str
    expires_at: float
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    registration_expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    extra: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def seconds_left(self) -> float:
        return self.expires_at - time.time()

    @property
    def can_refresh(self) -> bool:
        registered_until = self.registration_expires_at or 0
        return bool(self.refresh_token and self.client_id and self.client_secret) and (
            registered_until > time.time()
        )

    def without_refresh_token(self) -> SsoToken:
        return replace(self, refresh_token=None)

    def __repr__(self) -> str:
        return f"SsoToken({self.start_url}, expires {format_iso(self.expires_at)})"


def cache_dir() -> str:
    return os.path.join(os.path.expanduser("~"), ".aws", "sso", "cache")


def cache_name(sso: SsoSettings) -> str:
    """The AWS CLI's file name: sha1 of the sso-session name, or of the start URL (legacy)."""
    return hashlib.sha1((sso.session_name or sso.start_url).encode("utf-8")).hexdigest()


# The largest token file read back: the AWS CLI's are about 2 KiB.
MAX_FILE_BYTES = 256 * 1024


def path_for(sso: SsoSettings) -> str:
    return os.path.join(cache_dir(), cache_name(sso) + ".json")


def load(sso: SsoSettings) -> SsoToken | None:
    """The cached token for this sign-in; None if absent, malformed, for another URL, or not the
    user's own regular file (see `files.read_text`)."""
    data: Any = files.read_json(path_for(sso), MAX_FILE_BYTES)  # the user's own file, not half-written
    if data is None:
        return None
    try:
        token = SsoToken(
            start_url=str(data.get("startUrl") or sso.start_url),
            region=str(data.get("region") or sso.region),
            access_token=_required_string(data, "accessToken"),
            expires_at=parse_iso(_required_string(data, "expiresAt")),
            client_id=_optional_string(data, "clientId"),
            client_secret=_optional_string(data, "clientSecret"),
            registration_expires_at=_optional_time(data, "registrationExpiresAt"),
            refresh_token=_optional_string(data, "refreshToken"),
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )
    except (ValueError, TypeError, AttributeError, RecursionError):
        return None
    return token if token.start_url.rstrip("/") == sso.start_url.rstrip("/") else None


def save(sso: SsoSettings, token: SsoToken) -> None:
    data: dict[str, object] = dict(token.extra)
    data.update(
        startUrl=token.start_url,
        region=token.region,
        accessToken=token.access_token,
        expiresAt=format_iso(token.expires_at),
    )
    if token.client_id and token.client_secret:
        data.update(clientId=token.client_id, clientSecret=token.client_secret)
    if token.registration_expires_at:
        data["registrationExpiresAt"] = format_iso(token.registration_expires_at)
    if token.refresh_token:
        data["refreshToken"] = token.refresh_token
    text = json.dumps(data, indent=None)
    if len(text.encode()) > MAX_FILE_BYTES:  # it could never be read back: refuse it now
        raise UpstreamError(
            f"IAM Identity Center sent tokens too large to keep ({len(text) // 1024} KiB)", service="SSO-OIDC"
        )
    files.write_private(path_for(sso), text)


_KNOWN = frozenset(("startUrl", "region", "accessToken", "expiresAt", *_OPTIONAL))


def _required_string(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(key)
    return value


def _optional_string(data: dict, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _optional_time(data: dict, key: str) -> float | None:
    value = _optional_string(data, key)
    return parse_iso(value) if value else None
