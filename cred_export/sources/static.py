"""Static keys in a profile: long-term IAM user keys, or session keys pasted into the file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cred_export.aws.config import AwsConfig
from cred_export.credentials import Keys
from cred_export.sources.base import AWS_CONFIG, Candidate, Root
from cred_export.sources.botocore_profile import needs_botocore
from cred_export.stores.base import Store


@dataclass(frozen=True)
class StaticRoot(Root):
    kind: ClassVar[str] = "static"
    hint: ClassVar[str] = "aws_access_key_id/aws_secret_access_key"
    origin: ClassVar[str] = "profile"  # where the keys are: the profile, or the environment

    profile: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(repr=False)

    @property
    def cacheable(self) -> bool:
        # Pasted session keys are handed out as they are: their expiry is unknown.
        return self.session_token is None

    def identity(self) -> dict[str, object]:
        return {"type": "static", "origin": self.origin, "access_key_id": self.access_key_id}

    def describe(self) -> str:
        return f"static keys (profile {self.profile})"

    def credentials(self, store: Store) -> Keys:
        return Keys(self.access_key_id, self.secret_access_key, self.session_token)


def has_keys(settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("aws_access_key_id") and settings.get("aws_secret_access_key"))


def root_from(name: str, settings: Mapping[str, Any]) -> StaticRoot:
    return StaticRoot(
        profile=name,
        access_key_id=str(settings["aws_access_key_id"]).strip(),
        secret_access_key=str(settings["aws_secret_access_key"]).strip(),
        session_token=str(settings.get("aws_session_token") or "").strip() or None,
    )


ROOT = StaticRoot


def match(candidate: Candidate, config: AwsConfig) -> StaticRoot | None:
    settings = candidate.settings
    if candidate.origin != AWS_CONFIG or not has_keys(settings) or needs_botocore(settings):
        return None
    return root_from(candidate.name, settings)


# A profile this source claims, as written where `ROOT.defined_in` says (for docs, and for the
# contract every source keeps: tests/test_source_contract.py).
EXAMPLE: dict[str, object] = {
    "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
