"""Checks 3 and 4: which credential store is in use, and what it holds for the profile (no network)."""

from __future__ import annotations

import os
import sys

from cred_export import files, paths
from cred_export.credentials import format_iso, mask
from cred_export.doctor.claude_env import display_path
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, skip, warn
from cred_export.flows.status import session_of
from cred_export.stores import NONE, StoreUnavailable
from cred_export.stores.base import Store
from cred_export.stores.choose import choose_store, file_store_chosen
from cred_export.util.text import time_left


def check_keyring(ctx: Context) -> Check:
    if ctx.settings is None:
        return skip("keyring", "needs cred-export settings that parse")
    store = ctx.store = choose_store(ctx.settings, decide=False)
    unwritable = _unwritable(store)
    if unwritable is not None:
        return fail("keyring", unwritable, _writable_fix())
    if store.is_os_keyring:
        return ok("keyring", store.describe())
    if store.fallback_reason:
        return warn(
            "keyring", f"{store.fallback_reason}; caching in {_directory(store)} instead", _fallback_fix()
        )
    if store.kind == NONE:
        return warn(
            "keyring", 'cache = "none": nothing is cached, every call goes to AWS', _use_keyring_fix()
        )
    if file_store_chosen(ctx.settings):
        return ok(
            "keyring",
            f"{store.describe()}, chosen once because this machine has no OS keyring"
            f' (set cache = "keyring" in {display_path(paths.user_config_file())} to use one)',
        )
    return ok("keyring", f'{store.describe()} (cache = "file")')


def _unwritable(store: Store) -> str | None:
    """Why the cache directory (memos, locks) or the file store cannot be written, or None."""
    if store.kind == NONE:
        return None
    folders = [paths.cache_dir(), store.directory]
    for folder in [f for f in folders if f]:
        reason = files.unwritable(os.path.join(folder, ""))
        if reason:
            return (
                f"cannot write {display_path(folder)}: {reason}; nothing is cached, every export"
                " goes to AWS and a sign-in cannot be kept"
            )
    return None


def _writable_fix() -> str:
    return "make that folder writable, or set CRED_EXPORT_CACHE_DIR to a private folder you can write"


def check_cache(ctx: Context) -> Check:
    if ctx.chain is None or ctx.store is None or ctx.settings is None:
        return skip("cache", "needs a profile that resolves and a store")
    check = _cached_credentials(ctx)
    session = _session(ctx)
    return Check(check.id, check.verdict, f"{check.detail}; {session}", check.fix) if session else check


def _session(ctx: Context) -> str | None:
    """The sign-in session behind the credentials, as `status` shows it (no network)."""
    assert ctx.chain is not None and ctx.store is not None
    try:
        session = session_of(ctx.chain, ctx.store)
    except StoreUnavailable:
        return None
    if session is None:
        return None
    left = time_left(session.minutes_left() * 60) if session.expiration else "none held"
    until = f" until {format_iso(session.renewable_until)}" if session.renewable_until else ""
    renewal = f", renewable{until}" if session.renewable else ", not renewable: sign-in needed when it ends"
    return f"{session.kind} session: {left}{renewal}"


def _cached_credentials(ctx: Context) -> Check:
    assert ctx.chain is not None and ctx.store is not None and ctx.settings is not None
    if not ctx.chain.cacheable:
        return ok("cache", "not cached: session keys from the profile are handed out as they are")
    if ctx.store.kind == NONE:
        return ok("cache", 'nothing cached (cache = "none")')
    try:
        ctx.cached = ctx.store.get(ctx.chain.cache_key())
    except StoreUnavailable as exc:
        return warn("cache", f"cannot read the cache: {exc}", _fallback_fix())
    if ctx.cached is None:
        return ok("cache", "no cached credentials yet (the next export fetches them)")
    minutes = ctx.cached.seconds_left() / 60
    if minutes <= 0:
        return ok("cache", f"cached {mask(ctx.cached.access_key_id)} expired; the next export refreshes them")
    when = (
        "served"
        if ctx.cached.is_fresh(ctx.settings.refresh_ahead_seconds)
        else "refreshed at the next export"
    )
    return ok("cache", f"cached {mask(ctx.cached.access_key_id)}, {minutes:.0f} min left ({when})")


def _directory(store: Store) -> str:
    return display_path(store.directory or "?")


def _use_keyring_fix() -> str:
    return f'set cache = "keyring" (or "file") in {display_path(paths.user_config_file())}'


def _fallback_fix() -> str:
    settings_file = display_path(paths.user_config_file())
    if sys.platform.startswith("linux"):
        return (
            "run a Secret Service in this session (e.g. gnome-keyring-daemon --unlock),"
            f' or set cache = "file" in {settings_file} to use files on purpose'
        )
    return f'unlock the OS keyring, or set cache = "file" in {settings_file} to use files on purpose'
