"""IAM Identity Center: a role in an account, reached with the SSO portal's access token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TextIO

from cred_export import log
from cred_export.aws.config import AwsConfig
from cred_export.credentials import Keys
from cred_export.errors import ConfigError, UpstreamError
from cred_export.sources.base import AWS_CONFIG, Candidate, Root, Session
from cred_export.sso.settings import SsoSettings
from cred_export.stores.base import Store

_SSO_KEYS = ("sso_session", "sso_start_url")
DEFAULT_SCOPES = ("sso:account:access",)  # without it the service issues no refresh token


@dataclass(frozen=True)
class SsoRoot(Root):
    kind: ClassVar[str] = "sso"
    hint: ClassVar[str] = "sso_session"

    profile: str
    sso: SsoSettings
    account_id: str
    role_name: str

    @property
    def browser_sign_in(self) -> bool:
        return True

    def identity(self) -> dict[str, object]:
        return {
            "type": "sso",
            "start_url": self.sso.start_url,
            "region": self.sso.region,
            "account_id": self.account_id,
            "role_name": self.role_name,
        }

    def describe(self) -> str:
        return f"SSO {self.role_name} in {self.account_id} ({self.sso.session_name or self.sso.start_url})"

    def credentials(self, store: Store) -> Keys:
        from cred_export.sso.session import usable_token

        return _role_credentials(self, usable_token(self.sso).access_token)

    def sign_in(self, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
        from cred_export.sso import session

        session.sign_in(self.sso, flow=flow, deadline=deadline, out=out)

    def session(self, store: Store) -> Session | None:
        from cred_export.sso import tokens

        token = tokens.load(self.sso)
        return Session(
            "sso",
            token.expires_at if token else None,
            renewable=bool(token and token.can_refresh),
            renewable_until=token.registration_expires_at if token and token.can_refresh else None,
            details={"token_file": tokens.path_for(self.sso)},
        )

    def shared_files(self) -> list[str]:
        from cred_export.sso import tokens

        return [tokens.path_for(self.sso)]


ROOT = SsoRoot

_SESSION_KEYS = ("sso_start_url", "sso_region")  # what an [sso-session] section holds


def match(candidate: Candidate, config: AwsConfig) -> SsoRoot | None:
    settings = candidate.settings
    if candidate.origin != AWS_CONFIG or not any(key in settings for key in _SSO_KEYS):
        return None
    name = candidate.name
    session_name = settings.get("sso_session")
    source = config.sso_session(session_name, name) if session_name else settings
    values = {
        "sso_start_url": str(source.get("sso_start_url", "")).strip(),
        "sso_region": str(source.get("sso_region", "")).strip(),
        "sso_account_id": str(settings.get("sso_account_id", "")).strip(),
        "sso_role_name": str(settings.get("sso_role_name", "")).strip(),
    }
    _require(values, name, session_name, config)
    raw_scopes = str(source.get("sso_registration_scopes", DEFAULT_SCOPES[0]))
    scopes = tuple(scope.strip() for scope in raw_scopes.split(",") if scope.strip())
    sso = SsoSettings(
        name, session_name, values["sso_start_url"], values["sso_region"], scopes or DEFAULT_SCOPES
    )
    return SsoRoot(name, sso, values["sso_account_id"], values["sso_role_name"])


def _require(values: dict[str, str], name: str, session_name: str | None, config: AwsConfig) -> None:
    """ConfigError naming the section that lacks a setting: the [sso-session] or the profile."""
    missing = [key for key, value in values.items() if not value]
    from_session = [key for key in missing if session_name and key in _SESSION_KEYS]
    if from_session:
        raise ConfigError(
            f"[sso-session {session_name}] in {config.config_file} is missing {', '.join(from_session)}"
            f" (used by profile {name!r})"
        )
    if missing:
        raise ConfigError(f"SSO profile {name!r} is missing {', '.join(missing)}")


def _role_credentials(root: SsoRoot, access_token: str) -> Keys:
    """SSO portal GetRoleCredentials (an unsigned call carrying the access token)."""
    from cred_export.aws.clients import aws_errors, unsigned_client

    what = "SSO GetRoleCredentials"
    portal = unsigned_client("sso", root.sso.region)
    log.debug(f"profile {root.profile}: {what} {root.role_name} in {root.account_id}")
    with aws_errors(what, root.profile, frozenset({"UnauthorizedException"})):
        response = portal.get_role_credentials(
            roleName=root.role_name, accountId=root.account_id, accessToken=access_token
        )
    try:
        data = response["roleCredentials"]
        seconds = data["expiration"] / 1000
        return Keys(data["accessKeyId"], data["secretAccessKey"], data["sessionToken"], seconds)
    except (KeyError, TypeError):
        raise UpstreamError(
            f"{what} for profile {root.profile!r} answered without complete credentials", profile=root.profile
        ) from None


# A profile this source claims, as written where `ROOT.defined_in` says (for docs, and for the
# contract every source keeps: tests/test_source_contract.py).
EXAMPLE: dict[str, object] = {
    "sso_start_url": "https://example.awsapps.com/start",
    "sso_region": "eu-west-1",
    "sso_account_id": "123456789012",
    "sso_role_name": "Developer",
}
