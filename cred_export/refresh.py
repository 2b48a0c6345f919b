"""When to use the cache and when to refresh it, with one refresher per key at a time.

- More than `refresh_ahead` left: hand out the cached credentials.
- Less than that but more than MIN_HANDOUT: refresh if nobody else is; never wait.
- Less than MIN_HANDOUT (or nothing cached): wait (bounded) for the lock, refresh.
- A failed refresh still hands out cached credentials with more than GRACE left, with a warning.
- Fresh credentials that this machine's clock already sees as expired count as a failed refresh.
After taking the lock the cache is read again: the previous holder has usually refreshed it.
"""

from __future__ import annotations

from collections.abc import Callable

from cred_export import log
from cred_export.credentials import Credentials, mask
from cred_export.errors import CredExportError, LoginRequired, StoreUnavailable, UpstreamError
from cred_export.lock import KeyLock
from cred_export.settings import GRACE_SECONDS, MIN_HANDOUT_SECONDS, Settings
from cred_export.stores.base import Store


def obtain(
    store: Store,
    key: str,
    settings: Settings,
    fetch: Callable[[], Credentials],
    profile: str,
    *,
    grace: bool = True,
) -> Credentials:
    cached = _read(store, key)
    if _left(cached) >= settings.refresh_ahead_seconds:
        log.debug(f"cache hit for profile {profile} ({store.name})")
        return cached  # type: ignore[return-value]
    lock = KeyLock(key)
    if _left(cached) >= MIN_HANDOUT_SECONDS:
        if not lock.try_acquire():
            log.debug("another process is refreshing; handing out the cached credentials")
            return cached  # type: ignore[return-value]
    elif not lock.acquire(settings.lock_timeout_seconds):
        raise CredExportError(
            f"another cred-export has been refreshing profile {profile!r} for over "
            f"{settings.lock_timeout_seconds:g} s; try again (lock file {lock.path})"
        )
    try:
        return _refresh(store, key, settings, fetch, profile, grace)
    finally:
        lock.release()


def _refresh(
    store: Store, key: str, settings: Settings, fetch: Callable[[], Credentials], profile: str, grace: bool
) -> Credentials:
    cached = _read(store, key)
    if _left(cached) >= settings.refresh_ahead_seconds:
        log.debug(f"profile {profile}: refreshed by another process meanwhile")
        return cached  # type: ignore[return-value]
    log.debug(f"cache miss for profile {profile} ({store.name}): fetching")
    try:
        fresh = _usable(fetch(), profile)
    except (UpstreamError, LoginRequired) as exc:
        if grace and cached is not None and _left(cached) > GRACE_SECONDS:
            log.warn(f"{exc} — using cached credentials that expire in {_left(cached) / 60:.0f} min")
            return cached
        raise
    try:
        store.put(key, fresh)
        log.debug(f"cached {mask(fresh.access_key_id)} in {store.name}")
    except StoreUnavailable as exc:
        log.warn(f"could not cache the credentials: {exc}", topic="store-write")
    return fresh


def _usable(fresh: Credentials, profile: str) -> Credentials:
    """Fresh credentials as this machine's clock sees them: refused when already expired."""
    left = fresh.seconds_left()
    if left <= 0:
        raise UpstreamError(
            f"the credentials issued for profile {profile!r} expired {-left / 60:.0f} min ago by this"
            f" machine's clock ({fresh.expiration_iso}); check the system clock"
        )
    if left < MIN_HANDOUT_SECONDS:
        log.warn(
            f"the credentials issued for profile {profile!r} expire in {left / 60:.0f} min"
            " (is the system clock right?)",
            topic="short-lived",
        )
    return fresh


def _read(store: Store, key: str) -> Credentials | None:
    try:
        return store.get(key)
    except StoreUnavailable as exc:
        log.warn(f"could not read the cache: {exc}", topic="store-read")
        return None


def _left(creds: Credentials | None) -> float:
    return creds.seconds_left() if creds is not None else float("-inf")
