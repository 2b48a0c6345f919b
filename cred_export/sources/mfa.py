"""MFA around a chain's root (`mfa_serial` on a role of the chain): the roles are assumed with an
MFA session, GetSessionToken with a code, which satisfies `aws:MultiFactorAuthPresent`.

Not a source of the registry: `chain.resolve_chain` wraps the root in an `MfaRoot` when a role
hop names `mfa_serial`, much as botocore wraps its MFA prompter around a provider. The session
is kept under the root's identity and the serial, so every chain from the same keys and serial
shares it. Only `login` gets a code (from `mfa_process` or the terminal); export only uses the
cached session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, TextIO

from cred_export import log
from cred_export.credentials import Credentials, Keys
from cred_export.errors import ConfigError, LoginRequired
from cred_export.login import terminal
from cred_export.sources.base import Root, Session
from cred_export.stores.base import Store
from cred_export.stores.cache_key import digest
from cred_export.util.subprocesses import run_for_output

MFA_SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class MfaRoot(Root):
    """`inner`'s long-term keys, used only through an MFA session for `serial`.

    `profile` is the profile asked for (its name is in messages and the login command)."""

    hint: ClassVar[str] = "mfa_serial"  # what selects it (a registry source's hint; kept for the base)

    inner: Root
    serial: str
    process: str | None  # mfa_process: a command that prints the code
    profile: str

    @property
    def kind(self) -> str:  # type: ignore[override]
        """The inner root's: `status` shows where the chain starts ("static"), and its session as "mfa"."""
        return self.inner.kind

    def identity(self) -> dict[str, object]:
        # The inner root's, unchanged: the chain's key already holds the serial (its role hop
        # carries it), and keeping the identity as it is keeps every cached entry's key.
        return self.inner.identity()

    def describe(self) -> str:
        return self.inner.describe()

    def credentials(self, store: Store) -> Keys:
        """The cached MFA session; LoginRequired when there is none worth using (export never asks)."""
        session = store.get(self.session_key())
        if session is None or session.seconds_left() < session.min_handout():
            raise LoginRequired(self.profile, f"MFA {self.serial}")
        return Keys(
            session.access_key_id, session.secret_access_key, session.session_token, session.expiration
        )

    def sign_in(self, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
        """A code, then GetSessionToken with the inner root's keys; the MFA session is cached."""
        from cred_export.aws import sts

        keys = self._long_term_keys(store)
        code = self._code(deadline)
        fresh = sts.get_session_token(
            self.profile, keys, mfa_serial=self.serial, mfa_code=code, duration=MFA_SESSION_SECONDS
        )
        # STS always gives an expiry; were it missing, the session would read as expired.
        expiration = fresh.expiration if fresh.expiration is not None else 0.0
        creds = Credentials(
            fresh.access_key_id,
            fresh.secret_access_key,
            fresh.session_token or "",
            expiration,
            issued=time.time(),
        )
        store.put(self.session_key(), creds)
        log.debug(f"profile {self.profile}: MFA session cached until {creds.expiration_iso}")

    def session(self, store: Store) -> Session | None:
        """The MFA session as `status` shows it (no network)."""
        cached = store.get(self.session_key())
        return Session("mfa", cached.expiration if cached else None, renewable=False)

    def store_keys(self) -> list[str]:
        return [self.session_key(), *self.inner.store_keys()]

    def shared_files(self) -> list[str]:
        return self.inner.shared_files()

    def sign_in_writes(self) -> list[str]:
        return []  # the MFA session goes to the store only

    def client_secret_key(self) -> str | None:
        return self.inner.client_secret_key()

    def session_key(self) -> str:
        """Where the MFA session is kept: the inner root's identity and the serial."""
        return digest({"root": self.inner.identity(), "mfa_serial": self.serial})

    def _long_term_keys(self, store: Store) -> Keys:
        """The inner root's keys, which must be long-term: GetSessionToken refuses session keys."""
        unsupported = ConfigError(
            f"profile {self.profile!r}: mfa_serial is supported on chains that start from access keys"
        )
        if self.inner.session(store) is not None:  # SSO, console, OIDC: temporary keys, no network
            raise unsupported
        try:
            keys = self.inner.credentials(store)
        except LoginRequired:  # a root with a sign-in of its own gives session keys
            raise unsupported from None
        if keys.session_token is not None:
            raise unsupported
        return keys

    def _code(self, deadline: float) -> str:
        if self.process:
            output = run_for_output(self.process, "mfa_process", self.profile, deadline)
            return _valid(output.strip(), self.profile)
        code = terminal.ask(f"MFA code for {self.serial}: ", deadline)
        if code is None:
            raise LoginRequired(
                self.profile, "an MFA code is needed: set mfa_process or run login in a terminal"
            )
        return _valid(code, self.profile)


def _valid(code: str, profile: str) -> str:
    if not (code.isdigit() and 6 <= len(code) <= 8):
        raise ConfigError(f"profile {profile!r}: an MFA code is 6 digits, got {len(code)} characters")
    return code
