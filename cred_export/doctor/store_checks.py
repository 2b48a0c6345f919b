"""Checks 3 and 4: which credential store is in use, and what it holds for the profile (no network)."""

from __future__ import annotations

import sys

from cred_export import paths
from cred_export.chain import StaticRoot
from cred_export.credentials import mask
from cred_export.doctor.claude_env import display_path
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, ok, skip, warn
from cred_export.errors import StoreUnavailable
from cred_export.stores.base import Store
from cred_export.stores.choose import choose_store


def check_keyring(ctx: Context) -> Check:
    if ctx.settings is None:
        return skip("keyring", "needs cred-export settings that parse")
    ctx.choice = choose_store(ctx.settings)
    kind, store = ctx.choice.kind, ctx.choice.store
    if kind == "none":
        return warn(
            "keyring", 'cache = "none": nothing is cached, every call goes to AWS', _use_keyring_fix()
        )
    if kind == "file":
        return ok("keyring", f'file store in {_directory(store)} (cache = "file")')
    if kind == "file-fallback":
        reason = ctx.choice.fallback_reason
        return warn("keyring", f"{reason}; caching in {_directory(store)} instead", _fallback_fix())
    if kind == "keyring-secret-service":
        return ok("keyring", "Secret Service (SecretService backend)")
    backend = store.name.removeprefix("keyring (").removesuffix(")")
    return ok("keyring", f"OS keyring ({backend} backend)")


def check_cache(ctx: Context) -> Check:
    if ctx.chain is None or ctx.choice is None or ctx.settings is None:
        return skip("cache", "needs a profile that resolves and a store")
    if _is_pasted_session(ctx):
        return ok("cache", "not cached: session keys from the profile are handed out as they are")
    if ctx.choice.kind == "none":
        return ok("cache", 'nothing cached (cache = "none")')
    try:
        ctx.cached = ctx.choice.store.get(ctx.chain.cache_key())
    except StoreUnavailable as exc:
        return warn("cache", f"cannot read the cache: {exc}", _fallback_fix())
    if ctx.cached is None:
        return ok("cache", "no cached credentials yet (the next export fetches them)")
    minutes = ctx.cached.seconds_left() / 60
    if minutes <= 0:
        return ok("cache", f"cached {mask(ctx.cached.access_key_id)} expired; the next export refreshes them")
    when = "refreshed at the next export" if minutes * 60 < ctx.settings.refresh_ahead_seconds else "served"
    return ok("cache", f"cached {mask(ctx.cached.access_key_id)}, {minutes:.0f} min left ({when})")


def _directory(store: Store) -> str:
    return display_path(getattr(store, "directory", "?"))


def _is_pasted_session(ctx: Context) -> bool:
    chain = ctx.chain
    return (
        chain is not None
        and isinstance(chain.root, StaticRoot)
        and bool(chain.root.session_token)
        and not chain.roles
    )


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
