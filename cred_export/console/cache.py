"""The session file `aws login` leaves, exactly where and how the AWS CLI and botocore keep it.

`~/.aws/login/cache/<sha256 of the login_session ARN>.json` (`AWS_LOGIN_CACHE_DIRECTORY`
overrides) holds one JSON object: `accessToken` {`accessKeyId`, `secretAccessKey`,
`sessionToken`, `accountId`, `expiresAt`}, `tokenType`, `clientId`, `refreshToken`, `idToken`,
`dpopKey` and sometimes `signInRegion`. The AWS CLI writes it on one line with `json.dumps`'
defaults; cred-export writes it back the same way, atomically and 0600, changing only what a
renewal changes (the credentials and the rotated refresh token) and keeping every other field,
known or not, so that `aws`, botocore and cred-export can each renew what another renewed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from cred_export import files
from cred_export.credentials import Keys, format_iso, parse_iso
from cred_export.util.jwt_claims import unverified_claims

MAX_SIZE = 256 * 1024
CREDENTIALS_LIFETIME = 900  # the service issues 15-minute credentials


def cache_dir() -> str:
    override = os.environ.get("AWS_LOGIN_CACHE_DIRECTORY")
    if override:
        return os.path.expanduser(os.path.expandvars(override))
    return os.path.join(os.path.expanduser("~"), ".aws", "login", "cache")


def path_for(session_arn: str) -> str:
    return os.path.join(cache_dir(), hashlib.sha256(session_arn.encode("utf-8")).hexdigest() + ".json")


@dataclass(frozen=True)
class ConsoleSession:
    """One signed-in session: its current credentials and what renews them."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    account_id: str
    expires_at: float
    client_id: str
    refresh_token: str = field(repr=False)
    dpop_key: str = field(repr=False)
    sign_in_region: str | None = None
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # as read

    def seconds_left(self) -> float:
        return self.expires_at - time.time()

    def keys(self) -> Keys:
        """The credentials, dated by their own expiry (they last 15 minutes) for the cache's windows."""
        issued = self.expires_at - CREDENTIALS_LIFETIME
        return Keys(self.access_key_id, self.secret_access_key, self.session_token, self.expires_at, issued)

    @property
    def signed_in_at(self) -> float | None:
        """When the sign-in happened: the id_token's `iat`, where there is one."""
        claims = unverified_claims(self.document.get("idToken") or self.document.get("identityToken"))
        issued = claims.get("iat")
        return float(issued) if isinstance(issued, (int, float)) and not isinstance(issued, bool) else None

    def renewed(self, output: dict[str, Any], now: float) -> ConsoleSession:
        """This session after a refresh: new credentials and refresh token; ValueError if incomplete."""
        access = output["accessToken"]
        lifetime = output["expiresIn"]
        if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 0 < lifetime <= 12 * 3600:
            raise ValueError("expiresIn")
        return replace(
            self,
            access_key_id=_text(access, "accessKeyId"),
            secret_access_key=_text(access, "secretAccessKey"),
            session_token=_text(access, "sessionToken"),
            expires_at=float(int(now) + lifetime),
            refresh_token=_text(output, "refreshToken"),
        )


def load(path: str) -> ConsoleSession | None:
    """The session in the file; None if it is missing, unreadable, incomplete, or not the user's
    own regular file (see `files.read_text`)."""
    data: Any = files.read_json(path, MAX_SIZE)  # the user's own regular file, not half-written
    if data is None:
        return None
    try:
        access = data["accessToken"]
        region = data.get("signInRegion")
        return ConsoleSession(
            access_key_id=_text(access, "accessKeyId"),
            secret_access_key=_text(access, "secretAccessKey"),
            session_token=_text(access, "sessionToken"),
            account_id=str(access.get("accountId") or ""),
            expires_at=parse_iso(_text(access, "expiresAt")),
            client_id=_text(data, "clientId"),
            refresh_token=_text(data, "refreshToken"),
            dpop_key=_text(data, "dpopKey"),
            sign_in_region=region if isinstance(region, str) and region else None,
            document=data,
        )
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def save(path: str, session: ConsoleSession) -> None:
    """Write the session back as the AWS CLI writes it: the fields a renewal changes, the rest kept."""
    document = dict(session.document)
    document["accessToken"] = {
        **(document.get("accessToken") if isinstance(document.get("accessToken"), dict) else {}),
        "accessKeyId": session.access_key_id,
        "secretAccessKey": session.secret_access_key,
        "sessionToken": session.session_token,
        "accountId": session.account_id,
        "expiresAt": format_iso(session.expires_at),
    }
    document["refreshToken"] = session.refresh_token
    files.write_private(path, json.dumps(document))


def new_document(output: dict[str, Any], client_id: str, dpop_key: str, account_id: str, now: float) -> dict:
    """The file a fresh sign-in writes, field for field as `aws login` writes it."""
    access = output["accessToken"]
    lifetime = output["expiresIn"]
    if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 0 < lifetime <= 12 * 3600:
        raise ValueError("expiresIn")
    return {
        "accessToken": {
            "accessKeyId": _text(access, "accessKeyId"),
            "secretAccessKey": _text(access, "secretAccessKey"),
            "sessionToken": _text(access, "sessionToken"),
            "accountId": account_id,
            "expiresAt": format_iso(int(now) + lifetime),
        },
        "tokenType": str(output.get("tokenType") or "aws_sigv4"),
        "clientId": client_id,
        "refreshToken": _text(output, "refreshToken"),
        "idToken": _text(output, "idToken"),
        "dpopKey": dpop_key,
    }


def identity_of(id_token: str) -> str:
    """The signed-in principal's ARN: the id_token's `sub` (what becomes `login_session`).

    Checked strictly: it is written into ~/.aws/config and names a file."""
    subject = unverified_claims(id_token).get("sub")
    if not isinstance(subject, str) or not _PRINCIPAL_ARN.fullmatch(subject):
        raise ValueError("the id_token names no principal ARN")
    return subject


# arn:aws:iam::123456789012:user/alice, arn:aws:sts::123456789012:assumed-role/Admin/alice, …
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]{0,20}:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/-]{1,512}")


def account_of(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        raise ValueError(f"not an account ARN: {arn[:100]!r}")
    return parts[4]


def _text(data: Any, key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(key)
    return value
