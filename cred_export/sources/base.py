"""What a credential source is: a module with `match`, and the `Root` it builds.

A *source* is one way of getting a chain's first credentials (static keys, IAM Identity Center,
an OpenID Provider, …). Each is one module in this package with

- `match(candidate, config) -> Root | None`: whether a profile is of this kind, and if so its
  root, built from the profile's settings (everything that goes into the cache key);
- `ROOT`: its `Root` subclass;
- `EXAMPLE`: the settings of a profile it claims, which `tests/test_source_contract.py` runs
  the contract every source keeps on;

and a `Root` subclass that owns the behaviour: root credentials, sign-in, the session it keeps,
the store entries and files it owns. Export, login, status, clear and doctor reach sources only
through this face and `registry.root_for`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TextIO

from cred_export.credentials import Keys
from cred_export.stores.base import Store

AWS_CONFIG = "aws"  # a profile of ~/.aws/config and ~/.aws/credentials
SETTINGS = "settings"  # a [profiles.NAME] table of cred-export's settings


@dataclass(frozen=True)
class Candidate:
    """A profile as the configuration defines it, before any source has claimed it."""

    name: str
    settings: Mapping[str, Any]
    origin: str  # AWS_CONFIG or SETTINGS


@dataclass(frozen=True)
class Session:
    """A sign-in session behind a root (SSO token, OIDC refresh token, …), as known locally."""

    kind: str  # "sso", "oidc", "mfa", …
    expiration: float | None  # when what it holds now stops working; None: nothing held
    renewable: bool  # whether it can be renewed without a sign-in
    renewable_until: float | None = None  # when renewal stops working, where that is known
    details: dict[str, Any] = field(default_factory=dict)  # extra `status --json` fields

    def minutes_left(self) -> float:
        return (self.expiration - time.time()) / 60 if self.expiration is not None else 0.0


class Root:
    """A chain's first link. Subclasses are frozen dataclasses holding what the profile says.

    The defaults describe a source with nothing to sign in to and nothing of its own stored:
    static keys, say.
    """

    kind: ClassVar[str]  # `status` shows it: "static", "sso", "oidc", …
    defined_in: ClassVar[str] = AWS_CONFIG  # where such profiles are: AWS_CONFIG or SETTINGS
    hint: ClassVar[str]  # the setting that selects this source, for "profile has no credentials"
    profile: str

    @property
    def cacheable(self) -> bool:
        """Whether what `credentials` returns is worth caching (pasted session keys are not)."""
        return True

    @property
    def browser_sign_in(self) -> bool:
        """Whether export may run this source's browser sign-in itself (login_from_export = "auto")."""
        return False

    def identity(self) -> dict[str, object]:
        """Everything that shapes the credentials, for the cache key; never a secret."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for `status` and `--debug`: "SSO Dev in 123456789012 (corp)"."""
        raise NotImplementedError

    def credentials(self, store: Store) -> Keys:
        """The root credentials; LoginRequired when a sign-in is needed first.

        `store` keeps the source's own sessions (refresh tokens, assertions)."""
        raise NotImplementedError

    def sign_in(self, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
        """The interactive sign-in `login` runs; by default there is none to run.

        `flow` is "auto", "browser" or "device"; `deadline` is on the monotonic clock; messages
        for the user go to `out`."""

    def session(self, store: Store) -> Session | None:
        """The session behind the credentials, without network; None for sources with none."""
        return None

    def sign_in_needed(self, session: Session | None) -> bool:
        """Whether only a sign-in can give fresh credentials, given `session(store)`."""
        if session is None:
            return False
        return not (session.minutes_left() > 1 or session.renewable)

    def store_keys(self) -> list[str]:
        """Store entries this root owns beyond the cached credentials (for `clear`)."""
        return []

    def shared_files(self) -> list[str]:
        """Files shared with other tools (the AWS CLI's token cache); `clear --session-files` deletes them."""
        return []

    def sign_in_writes(self) -> list[str]:
        """Files the interactive sign-in writes, checked before it starts: its session files."""
        return self.shared_files()

    def client_secret_key(self) -> str | None:
        """The store entry of this root's OAuth client secret, if it has one."""
        return None
