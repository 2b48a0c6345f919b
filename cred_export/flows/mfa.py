"""MFA sessions for assume-role chains: a code from `mfa_process` or the terminal, then an MFA
session (GetSessionToken) cached for every role of the chain. Only `login` asks; export only
uses what is cached."""

from __future__ import annotations

import time
from typing import TextIO

from cred_export import log
from cred_export.aws import sts
from cred_export.chain import Chain
from cred_export.credentials import Credentials, Keys
from cred_export.errors import ConfigError, LoginRequired
from cred_export.login import terminal
from cred_export.sources.base import Session
from cred_export.stores.base import Store
from cred_export.util.subprocesses import run_for_output

MFA_SESSION_SECONDS = 12 * 3600


def cached_session(chain: Chain, store: Store) -> Keys:
    """The cached MFA session of the chain's root; LoginRequired when there is none worth using."""
    session = store.get(chain.mfa_cache_key())
    if session is None or session.seconds_left() < session.min_handout():
        raise LoginRequired(chain.profile, f"MFA {chain.mfa_serial}")
    return Keys(session.access_key_id, session.secret_access_key, session.session_token, session.expiration)


def session(chain: Chain, store: Store) -> Session:
    """The MFA session as `status` shows it (no network)."""
    cached = store.get(chain.mfa_cache_key())
    return Session("mfa", cached.expiration if cached else None, renewable=False)


def sign_in(chain: Chain, store: Store, *, deadline: float, out: TextIO) -> None:
    keys = chain.root.long_term_keys()
    if keys is None:
        raise ConfigError(
            f"profile {chain.profile!r}: mfa_serial is supported on chains that start from access keys"
        )
    code = _code(chain, deadline, out)
    fresh = sts.get_session_token(
        chain.profile, keys, mfa_serial=chain.mfa_serial, mfa_code=code, duration=MFA_SESSION_SECONDS
    )
    creds = Credentials(
        fresh.access_key_id,
        fresh.secret_access_key,
        fresh.session_token or "",
        fresh.expiration or time.time() + 3600,
        issued=time.time(),
    )
    store.put(chain.mfa_cache_key(), creds)
    log.debug(f"profile {chain.profile}: MFA session cached until {creds.expiration_iso}")


def _code(chain: Chain, deadline: float, out: TextIO) -> str:
    if chain.mfa_process:
        output = run_for_output(chain.mfa_process, "mfa_process", chain.profile, deadline)
        return _valid(output.strip(), chain.profile)
    code = terminal.ask(f"MFA code for {chain.mfa_serial}: ", deadline)
    if code is None:
        raise LoginRequired(
            chain.profile, "an MFA code is needed: set mfa_process or run login in a terminal"
        )
    return _valid(code, chain.profile)


def _valid(code: str, profile: str) -> str:
    if not (code.isdigit() and 6 <= len(code) <= 8):
        raise ConfigError(f"profile {profile!r}: an MFA code is 6 digits, got {len(code)} characters")
    return code
