"""The export flow: resolve the profile, then hand out cached credentials or fetch and cache them."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from cred_export import files, log
from cred_export.aws.config import load_aws_config
from cred_export.chain import Chain, resolve_chain
from cred_export.credentials import Credentials
from cred_export.errors import ConfigError, LoginRequired
from cred_export.fast import memo
from cred_export.renew import cached_credentials
from cred_export.settings import Settings, load_settings
from cred_export.stores import StoreUnavailable
from cred_export.stores.base import Store
from cred_export.stores.cache_key import bedrock_token_key
from cred_export.stores.choose import choose_store
from cred_export.stores.file_store import FileStore
from cred_export.stores.null_store import NullStore
from cred_export.util import deadline, subprocesses

# After a keyring failure, how long the hit path keeps to the file store before trying again.
KEYRING_RETRY_SECONDS = 300


def export(
    profile: str,
    profile_named: bool,
    *,
    grace: bool = True,
    allow_sign_in: bool = True,
    keyring_unavailable: str | None = None,
    at_least: float = 0,
) -> Credentials:
    """Credentials for the profile, from the cache or upstream.

    With `grace`, a failed refresh still hands out cached credentials that have a few minutes
    left (with a warning); `login` turns that off, since it is there to fix exactly that.
    `allow_sign_in=False` never starts an interactive sign-in, whatever `login_from_export` says.
    `keyring_unavailable` is why the hit path could not read the keyring, if it tried.
    `at_least`: cached credentials with less than this many seconds left are renewed first.
    """
    fingerprint = memo.fingerprint(profile, profile_named)  # before reading what it describes
    settings = load_settings()
    chain = resolve(profile, profile_named, settings)
    log.debug(f"profile {profile}: {chain.describe()}")
    if not chain.cacheable:
        log.debug("static session keys with no known expiry: handed out as they are, not cached")
        return chain.credentials(NullStore())
    store = choose_store(settings, keyring_unavailable)
    key = chain.cache_key()
    _remember(fingerprint, key, store, settings, profile_region(profile, settings))
    _adopt_fallback_entries(store, chain)
    subprocesses.detach_stdin()

    def fetch() -> Credentials:
        return _fetch(
            chain, store, settings, allow_sign_in, lambda: resolve(profile, profile_named, settings)
        )

    with deadline.phase(deadline.EXPORT_SECONDS):
        return cached_credentials.obtain(store, key, settings, fetch, profile, grace=grace, at_least=at_least)


def resolve(profile: str, profile_named: bool, settings: Settings) -> Chain:
    """The profile's chain, from the AWS config files and cred-export's `[profiles]` tables."""
    return resolve_chain(
        load_aws_config(), profile, profile_named=profile_named, idp_profiles=settings.profiles
    )


def profile_region(profile: str, settings: Settings) -> str:
    """The profile's own region: its AWS profile's, else its `[profiles.NAME]` table's ("" if none)."""
    own = load_aws_config().profiles.get(profile, {}).get("region")
    return str(own or settings.profiles.get(profile, {}).get("region") or "").strip()


def sign_in(chain: Chain, store: Store, *, flow: str, deadline: float, out: TextIO) -> None:
    """The interactive sign-in the chain's root needs, if any (an MFA code, a browser, …).

    ConfigError, before any browser opens, when what the sign-in gets could not be kept."""
    _check_writable(chain, store)
    chain.root.sign_in(store, flow=flow, deadline=deadline, out=out)


def _check_writable(chain: Chain, store: Store) -> None:
    """The files the sign-in writes and the file store must be writable (else one line, exit 2)."""
    targets = chain.root.sign_in_writes()
    directory = store.directory  # file stores; a keyring is asked when used
    if directory:
        targets.append(os.path.join(directory, ""))
    for target in targets:
        reason = files.unwritable(target)
        if reason:
            raise ConfigError(f"cannot write {target or '.'}: {reason}; the sign-in was not started")


def _fetch(
    chain: Chain, store: Store, settings: Settings, allow_sign_in: bool, resolve_again: Callable[[], Chain]
) -> Credentials:
    try:
        root = chain.root.credentials(store)
    except LoginRequired:
        if not (allow_sign_in and _may_sign_in_from_export(chain, settings)):
            raise
        log.warn(f"profile {chain.profile} needs a sign-in; opening the browser", topic="sign-in")
        # The sign-in has its own time limit; the calls after it, a fresh export phase.
        with deadline.phase(settings.login_timeout_seconds, extend=True):
            ends = time.monotonic() + settings.login_timeout_seconds
            sign_in(chain, store, flow="browser", deadline=ends, out=sys.stderr)
        with deadline.phase(deadline.EXPORT_SECONDS, extend=True):
            chain = resolve_again()  # a sign-in may change the profile (aws login sets login_session)
            root = chain.root.credentials(store)
            return chain.fetch(root)
    return chain.fetch(root)


def _may_sign_in_from_export(chain: Chain, settings: Settings) -> bool:
    """`login_from_export = "auto"`: browser sign-ins (SSO, OIDC) on a desktop, never headless."""
    from cred_export.login.browser import can_open_browser

    return settings.login_from_export == "auto" and chain.root.browser_sign_in and can_open_browser()


def _remember(fingerprint: str, key: str, store: Store, settings: Settings, region: str) -> None:
    """Write what the hit path needs to answer the export, `login` and `bedrock-token` alone."""
    note = memo.Memo(
        key,
        store.kind,
        refresh_ahead=settings.refresh_ahead_seconds,
        keyring_timeout=settings.keyring_timeout_seconds,
        chunk=settings.keyring_chunk_size,
        fallback_reason=store.fallback_reason,
        retry_keyring_after=time.time() + KEYRING_RETRY_SECONDS,
        token_key=bedrock_token_key(key),
        region=region,
    )
    try:
        memo.write(fingerprint, note)
    except OSError as exc:
        log.debug(f"could not write the resolution memo: {exc.strerror}")


def _adopt_fallback_entries(store: Store, chain: Chain) -> None:
    """Once the keyring works again, move what the file fallback kept for the chain into it:
    its credentials and its sessions (MFA, OIDC, SAML)."""
    if not store.is_os_keyring:
        return
    fallback = FileStore()
    for key in chain.store_keys():
        text = fallback.get_text(key)
        if text is None:
            continue
        try:
            store.put_text(key, text)
        except StoreUnavailable:
            return
        fallback.delete(key)
        log.debug("moved an entry kept during a keyring outage into the keyring")
