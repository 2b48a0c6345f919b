"""Console sessions (`aws login`, AWS CLI ≥ 2.32): a profile with `login_session = <ARN>`.

The credentials come from the session file the AWS CLI shares (`console/cache.py`) and last 15
minutes; the session is renewed with the AWS Sign-In service for up to 12 hours, then `login`
signs in again the way `aws login` does.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import ClassVar, TextIO

from cred_export.aws.config import AwsConfig
from cred_export.credentials import Keys
from cred_export.sources.base import AWS_CONFIG, Candidate, Root, Session
from cred_export.stores.base import Store

SESSION_HOURS = 12  # a console session is renewed for at most this long after its sign-in


@dataclass(frozen=True)
class ConsoleRoot(Root):
    kind: ClassVar[str] = "console"
    hint: ClassVar[str] = "login_session (aws login)"

    profile: str  # its region (else botocore's default) is where the session is renewed,
    # unless the session file names its own signInRegion
    session_arn: str  # who signed in: the session file is named after it
    cache_dir: str  # where the session file is (AWS_LOGIN_CACHE_DIRECTORY)

    @property
    def browser_sign_in(self) -> bool:
        return True

    def identity(self) -> dict[str, object]:
        return {
            "type": "console",
            "session": self.session_arn,
            "cache_dir": self.cache_dir,
            "endpoint": os.environ.get("AWS_ENDPOINT_URL_SIGNIN"),
        }

    def describe(self) -> str:
        return f"console session {self.session_arn or '(not signed in yet)'} (aws login)"

    def credentials(self, store: Store) -> Keys:
        from cred_export.console import session

        return session.usable(self.profile, self.session_arn).keys()

    def sign_in(self, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
        from cred_export.console import session

        session.sign_in(self.profile, self.session_arn, flow=flow, deadline=deadline, out=out)

    def session(self, store: Store) -> Session | None:
        from cred_export.console import cache

        found = cache.load(cache.path_for(self.session_arn)) if self.session_arn else None
        signed_in = found.signed_in_at if found else None
        until = signed_in + SESSION_HOURS * 3600 if signed_in else None  # unknown without an id_token
        return Session(
            "console",
            found.expires_at if found else None,
            renewable=found is not None and (until is None or until > time.time()),
            renewable_until=until,
            details={"session_file": cache.path_for(self.session_arn), "signed_in_as": self.session_arn},
        )

    def shared_files(self) -> list[str]:
        from cred_export.console import cache

        return [cache.path_for(self.session_arn)] if self.session_arn else []

    def sign_in_writes(self) -> list[str]:
        """A new session file, and `login_session` in the AWS config file (as `aws login` does)."""
        from cred_export import paths

        return [os.path.join(self.cache_dir, ""), paths.aws_config_file()]


ROOT = ConsoleRoot


def match(candidate: Candidate, config: AwsConfig) -> ConsoleRoot | None:
    settings = candidate.settings
    if candidate.origin != AWS_CONFIG or "login_session" not in settings:
        return None
    from cred_export.console import cache

    return ConsoleRoot(candidate.name, str(settings["login_session"]).strip(), cache.cache_dir())


# A profile this source claims, as written where `ROOT.defined_in` says (for docs, and for the
# contract every source keeps: tests/test_source_contract.py).
EXAMPLE: dict[str, object] = {"login_session": "arn:aws:iam::123456789012:user/alice", "region": "eu-west-1"}
