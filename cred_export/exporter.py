"""The export command's slow path: resolve the profile, then cache or fetch."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from cred_export import log, memo, sources
from cred_export.aws_config import load_aws_config
from cred_export.chain import Chain, OidcRoot, SamlRoot, SsoRoot, StaticRoot, resolve_chain
from cred_export.credentials import Credentials
from cred_export.errors import LoginRequired, StoreUnavailable, sign_in_required
from cred_export.fastpath import Notes
from cred_export.refresh import obtain
from cred_export.settings import MIN_HANDOUT_SECONDS, Settings, load_settings
from cred_export.stores.base import Store
from cred_export.stores.choose import Choice, choose_store
from cred_export.stores.file_store import FileStore

# After a keyring failure, how long the hit path keeps to the file store before trying again.
KEYRING_RETRY_SECONDS = 300


def export(
    profile: str, profile_named: bool, *, grace: bool = True, allow_sign_in: bool = True
) -> Credentials:
    """Credentials for the profile, from the cache or upstream.

    With `grace`, a failed refresh still hands out cached credentials that have a few minutes
    left (with a warning); `login` turns that off, since it is there to fix exactly that.
    `allow_sign_in=False` never starts an interactive sign-in, whatever `login_from_export` says.
    """
    fingerprint = memo.fingerprint(profile, profile_named)  # before reading what it describes
    settings = load_settings()
    chain = resolve(profile, profile_named, settings)
    log.debug(f"profile {profile}: {chain.describe()}")
    if _is_pasted_session(chain):
        log.debug("static session keys with no known expiry: handed out as they are, not cached")
        return sources.as_credentials(sources.root_keys(chain, None))
    choice = choose_store(settings, Notes.keyring_unavailable)
    key = chain.cache_key()
    _remember(fingerprint, key, choice, settings)
    _adopt_fallback_entry(choice, key)
    detach_stdin()
    return obtain(
        choice.store,
        key,
        settings,
        lambda: _fetch(chain, choice, settings, allow_sign_in),
        profile,
        grace=grace,
    )


def resolve(profile: str, profile_named: bool, settings: Settings) -> Chain:
    """The profile's chain, from the AWS config files and cred-export's `[profiles]` tables."""
    return resolve_chain(
        load_aws_config(), profile, profile_named=profile_named, idp_profiles=settings.profiles
    )


def _fetch(chain: Chain, choice: Choice, settings: Settings, allow_sign_in: bool) -> Credentials:
    try:
        root = _mfa_session(chain, choice) if chain.mfa_serial else sources.root_keys(chain, choice.store)
    except LoginRequired:
        if not (allow_sign_in and _may_sign_in_from_export(chain, settings)):
            raise
        log.warn(f"profile {chain.profile} needs a sign-in; opening the browser", topic="sign-in")
        deadline = time.monotonic() + settings.login_timeout_seconds
        sign_in(chain, choice.store, flow="browser", deadline=deadline, out=sys.stderr)
        root = sources.root_keys(chain, choice.store)
    return sources.fetch(chain, root)


def _may_sign_in_from_export(chain: Chain, settings: Settings) -> bool:
    """`login_from_export = "auto"`: browser sign-ins (SSO, OIDC) on a desktop, never headless."""
    from cred_export.login.browser import can_open_browser

    interactive_root = isinstance(chain.root, (SsoRoot, OidcRoot))
    return settings.login_from_export == "auto" and interactive_root and can_open_browser()


def sign_in(chain: Chain, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
    """The interactive sign-in the chain needs (MFA, SSO, OIDC or SAML); none for the others."""
    if chain.mfa_serial:
        from cred_export.login import mfa

        mfa.sign_in(chain, store, deadline=deadline, out=out)
    elif isinstance(chain.root, SsoRoot):
        from cred_export.sso import session

        session.sign_in(chain.root, flow=flow, deadline=deadline, out=out)
    elif isinstance(chain.root, OidcRoot):
        from cred_export.idp import oidc_session

        oidc_session.sign_in(chain.root, store, flow=flow, deadline=deadline, out=out)
    elif isinstance(chain.root, SamlRoot):
        from cred_export.idp.saml import run_assertion_command
        from cred_export.sources.saml import keep_assertion

        keep_assertion(store, chain.root, run_assertion_command(chain.root.settings, deadline))


def _mfa_session(chain: Chain, choice: Choice) -> sources.Keys:
    """The cached MFA session of the chain's root; export never asks for a code."""
    session = choice.store.get(chain.mfa_cache_key())
    if session is None or session.seconds_left() < MIN_HANDOUT_SECONDS:
        raise sign_in_required(chain.profile, f"MFA {chain.mfa_serial}")
    return sources.Keys(
        session.access_key_id, session.secret_access_key, session.session_token, session.expiration
    )


def _is_pasted_session(chain: Chain) -> bool:
    return isinstance(chain.root, StaticRoot) and bool(chain.root.session_token) and not chain.roles


def _remember(fingerprint: str, key: str, choice: Choice, settings: Settings) -> None:
    fields = {
        "key": key,
        "store": choice.kind,
        "refresh_ahead": f"{settings.refresh_ahead_seconds:g}",
        "keyring_timeout": f"{settings.keyring_timeout_seconds:g}",
        "chunk": str(settings.keyring_chunk_size),
    }
    if choice.fallback_reason:
        fields["fallback_reason"] = choice.fallback_reason.replace("\n", " ")
        fields["retry_keyring_after"] = str(int(time.time() + KEYRING_RETRY_SECONDS))
    try:
        memo.write(fingerprint, fields)
    except OSError as exc:
        log.debug(f"could not write the resolution memo: {exc.strerror}")


def _adopt_fallback_entry(choice: Choice, key: str) -> None:
    """Once the keyring works again, move what the file fallback cached into it."""
    if not choice.kind.startswith("keyring"):
        return
    fallback = FileStore()
    creds = fallback.get(key)
    if creds is None:
        return
    try:
        choice.store.put(key, creds)
    except StoreUnavailable:
        return
    fallback.delete(key)
    log.debug("moved credentials cached during a keyring outage into the keyring")


def detach_stdin() -> None:
    """Export reads no input, and neither may its children (credential_process, …)."""
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    except OSError:
        pass
