"""SAML (`[profiles.NAME]` with `source = "saml"`): an assertion from `assertion_command`,
exchanged with STS AssumeRoleWithSAML (an unsigned call).

Only `login` runs the command; export exchanges the assertion `login` kept, once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, TextIO

from cred_export.aws.config import AwsConfig
from cred_export.credentials import Keys
from cred_export.errors import LoginRequired
from cred_export.idp.profiles import SamlProfile, parse_saml
from cred_export.sources.base import SETTINGS, Candidate, Root, Session
from cred_export.stores.base import Store
from cred_export.stores.cache_key import digest

ASSERTION_LIFETIME = 240  # seconds a fresh assertion is used for (IdPs issue them for ~5 min)


@dataclass(frozen=True)
class SamlRoot(Root):
    kind: ClassVar[str] = "saml"
    defined_in: ClassVar[str] = SETTINGS
    hint: ClassVar[str] = '"saml"'

    profile: str
    settings: SamlProfile

    def identity(self) -> dict[str, object]:
        s = self.settings
        return {
            "type": "saml",
            "command": s.assertion_command,
            "role_arn": s.role_arn,
            "principal_arn": s.principal_arn,
            "duration_seconds": s.duration_seconds,
        }

    def describe(self) -> str:
        return f"SAML ({self.settings.role_arn or 'the role in the assertion'})"

    def credentials(self, store: Store) -> Keys:
        """Credentials from the assertion `login` obtained; export never runs the command itself."""
        stamp, _, assertion = (store.get_text(self.assertion_key()) or "").partition("\n")
        if not stamp.isdigit() or time.time() - int(stamp) > ASSERTION_LIFETIME or not assertion:
            raise LoginRequired(self.profile, "a SAML sign-in is needed")
        store.delete(self.assertion_key())  # an assertion is for one exchange
        return _exchange(self, assertion)

    def sign_in(self, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
        from cred_export.idp.saml import run_assertion_command

        assertion = run_assertion_command(self.settings, deadline)
        store.put_text(self.assertion_key(), f"{int(time.time())}\n{assertion}")

    def sign_in_needed(self, session: Session | None) -> bool:
        return True  # only login runs the assertion command

    def store_keys(self) -> list[str]:
        return [self.assertion_key()]

    def assertion_key(self) -> str:
        material = {
            "type": "saml-assertion",
            "profile": self.profile,
            "command": self.settings.assertion_command,
        }
        return digest(material)


ROOT = SamlRoot


def match(candidate: Candidate, config: AwsConfig) -> SamlRoot | None:
    if candidate.origin != SamlRoot.defined_in or candidate.settings.get("source") != SamlRoot.kind:
        return None
    return SamlRoot(candidate.name, parse_saml(candidate.name, dict(candidate.settings)))


def _exchange(root: SamlRoot, assertion: str) -> Keys:
    from cred_export.aws import sts
    from cred_export.idp.saml import choose_role, roles_in

    settings = root.settings
    role, principal = choose_role(settings, roles_in(assertion, root.profile))
    return sts.assume_role_with_saml(
        root.profile,
        role_arn=role,
        principal_arn=principal,
        assertion=assertion,
        region=settings.region or "us-east-1",
        duration=settings.duration_seconds,
    )


# A profile this source claims, as written where `ROOT.defined_in` says (for docs, and for the
# contract every source keeps: tests/test_source_contract.py).
EXAMPLE: dict[str, object] = {
    "source": "saml",
    "assertion_command": "corp-saml --app aws",
    "role_arn": "arn:aws:iam::123456789012:role/Developer",
    "principal_arn": "arn:aws:iam::123456789012:saml-provider/Corp",
}
