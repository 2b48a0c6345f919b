"""MFA sign-in for assume-role chains: a code from `mfa_process` or the terminal, then an MFA
session (GetSessionToken) cached for every role of the chain. Only `login` asks; export never."""

from __future__ import annotations

import os
import select
import time
from typing import TextIO

from cred_export import log
from cred_export.chain import Chain, StaticRoot
from cred_export.children import run_for_output
from cred_export.credentials import Credentials
from cred_export.errors import ConfigError, sign_in_required
from cred_export.sources.session_token import get_session_token
from cred_export.stores.base import Store
from cred_export.sts import Keys

MFA_SESSION_SECONDS = 12 * 3600


def sign_in(chain: Chain, store: Store, *, deadline: float, out: TextIO) -> None:
    if not isinstance(chain.root, StaticRoot):
        raise ConfigError(
            f"profile {chain.profile!r}: mfa_serial is supported on chains that start from access keys"
        )
    code = _code(chain, deadline, out)
    root = chain.root
    keys = Keys(root.access_key_id, root.secret_access_key, root.session_token)
    session = get_session_token(
        chain.profile, keys, mfa_serial=chain.mfa_serial, mfa_code=code, duration=MFA_SESSION_SECONDS
    )
    creds = Credentials(
        session.access_key_id,
        session.secret_access_key,
        session.session_token or "",
        session.expiration or time.time() + 3600,
    )
    store.put(chain.mfa_cache_key(), creds)
    log.debug(f"profile {chain.profile}: MFA session cached until {creds.expiration_iso}")


def _code(chain: Chain, deadline: float, out: TextIO) -> str:
    if chain.mfa_process:
        output = run_for_output(chain.mfa_process, "mfa_process", chain.profile, deadline)
        return _valid(output.strip(), chain.profile)
    code = _ask_terminal(f"MFA code for {chain.mfa_serial}: ", deadline)
    if code is None:
        raise sign_in_required(
            chain.profile, "an MFA code is needed: set mfa_process or run login in a terminal"
        )
    return _valid(code, chain.profile)


def _ask_terminal(prompt: str, deadline: float) -> str | None:
    """A line typed on the controlling terminal (never stdin), or None without one or in time."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    try:
        os.write(fd, prompt.encode())
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.write(fd, b"\n")
                return None
            chunk = os.read(fd, 64)
            if not chunk:
                break
            line += chunk
        return line.decode("utf-8", "replace").strip()
    finally:
        os.close(fd)


def _valid(code: str, profile: str) -> str:
    if not (code.isdigit() and 6 <= len(code) <= 8):
        raise ConfigError(f"profile {profile!r}: an MFA code is 6 digits, got {len(code)} characters")
    return code
