"""A corporate OpenID Provider (`[profiles.NAME]` with `source = "oidc"`): its id_token,
exchanged for AWS credentials with STS AssumeRoleWithWebIdentity or a Cognito identity pool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TextIO

from cred_export.aws.config import AwsConfig
from cred_export.credentials import Keys
from cred_export.idp.profiles import OidcProfile, parse_oidc
from cred_export.sources.base import SETTINGS, Candidate, Root, Session
from cred_export.stores.base import Store


@dataclass(frozen=True)
class OidcRoot(Root):
    kind: ClassVar[str] = "oidc"
    defined_in: ClassVar[str] = SETTINGS
    hint: ClassVar[str] = '"oidc"'

    profile: str
    settings: OidcProfile

    @property
    def browser_sign_in(self) -> bool:
        return True

    def identity(self) -> dict[str, object]:
        s = self.settings
        return {
            "type": "oidc",
            "issuer": s.issuer,
            "client_id": s.client_id,
            "federation": s.federation,
            "role_arn": s.role_arn,
            "identity_pool_id": s.identity_pool_id,
            "duration_seconds": s.duration_seconds,
            "scopes": list(s.scopes),
        }

    def describe(self) -> str:
        target = self.settings.role_arn or f"Cognito pool {self.settings.identity_pool_id}"
        return f"OIDC {self.settings.issuer} → {target}"

    def credentials(self, store: Store) -> Keys:
        from cred_export.idp import federation
        from cred_export.idp.oidc_session import usable_id_token

        id_token = usable_id_token(self.settings, store)
        if self.settings.federation == "cognito":
            return federation.cognito_credentials(self.settings, id_token)
        return federation.assume_role(self.settings, id_token)

    def sign_in(self, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
        from cred_export.idp import oidc_session

        oidc_session.sign_in(self.settings, store, flow=flow, deadline=deadline, out=out)

    def session(self, store: Store) -> Session | None:
        from cred_export.idp.oidc_session import stored_session

        expiry, renewable = stored_session(store, self.settings)
        return Session("oidc", expiry, renewable)

    def store_keys(self) -> list[str]:
        from cred_export.idp.oidc_session import session_keys

        return session_keys(self.settings)

    def client_secret_key(self) -> str | None:
        from cred_export.idp.oidc_session import client_secret_key

        return client_secret_key(self.settings)


ROOT = OidcRoot


def match(candidate: Candidate, config: AwsConfig) -> OidcRoot | None:
    if candidate.origin != OidcRoot.defined_in or candidate.settings.get("source") != OidcRoot.kind:
        return None
    return OidcRoot(candidate.name, parse_oidc(candidate.name, dict(candidate.settings)))


# A profile this source claims, as written where `ROOT.defined_in` says (for docs, and for the
# contract every source keeps: tests/test_source_contract.py).
EXAMPLE: dict[str, object] = {
    "source": "oidc",
    "issuer": "https://login.example.com",
    "client_id": "cred-export",
    "role_arn": "arn:aws:iam::123456789012:role/Developer",
}
