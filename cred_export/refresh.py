"""Cached AWS credentials, refreshed through the single-flight renewal (`renewal.obtain`).

- More than `refresh_ahead` left: the cached credentials.
- Less than that but at least MIN_HANDOUT: refreshed if nobody else is refreshing; never a wait.
- Less than MIN_HANDOUT, or nothing cached: a bounded wait for the lock, then a refresh.
- A failed refresh still hands out cached credentials with more than GRACE left, with a warning.
- Fresh credentials that this machine's clock already sees as expired count as a failed refresh.
"""

from __future__ import annotations

from collections.abc import Callable

from cred_export import log, renewal
from cred_export.credentials import Credentials, mask
from cred_export.errors import CredExportError, UpstreamError
from cred_export.settings import GRACE_SECONDS, MIN_HANDOUT_SECONDS, Settings
from cred_export.stores import StoreUnavailable
from cred_export.stores.base import Store


class CachedCredentials:
    """The credentials a store keeps under `key`, as a `renewal.Renewable`."""

    def __init__(self, store: Store, key: str, fetch: Callable[[], Credentials], profile: str) -> None:
        self.store, self.key, self.fetch, self.profile = store, key, fetch, profile
        self.what = f"profile {profile!r}"
        self.lock_name = key

    def read(self) -> Credentials | None:
        try:
            return self.store.get(self.key)
        except StoreUnavailable as exc:
            log.warn(f"could not read the cache: {exc}", topic="store-read")
            return None

    def expiry(self, value: Credentials) -> float:
        return value.expiration

    def renew(self, current: Credentials | None) -> Credentials:
        log.debug(f"cache miss for profile {self.profile} ({self.store.name}): fetching")
        return _usable(self.fetch(), self.profile)

    def write(self, value: Credentials) -> None:
        try:
            self.store.put(self.key, value)
            log.debug(f"cached {mask(value.access_key_id)} in {self.store.name}")
        except StoreUnavailable as exc:
            log.warn(f"could not cache the credentials: {exc}", topic="store-write")

    def grace_warning(self, error: CredExportError, seconds_left: float) -> str:
        return f"{error} — using cached credentials that expire in {seconds_left / 60:.0f} min"


def obtain(
    store: Store,
    key: str,
    settings: Settings,
    fetch: Callable[[], Credentials],
    profile: str,
    *,
    grace: bool = True,
) -> Credentials:
    """Credentials for `key`: cached, or fetched with `fetch` and cached (see the module doc)."""
    window = renewal.Window(
        refresh_ahead=settings.refresh_ahead_seconds,
        min_handout=MIN_HANDOUT_SECONDS,
        grace=GRACE_SECONDS,
        lock_timeout=settings.lock_timeout_seconds,
    )
    item = CachedCredentials(store, key, fetch, profile)
    return renewal.obtain(item, window, grace_on=renewal.GRACE_ON if grace else ())


def _usable(fresh: Credentials, profile: str) -> Credentials:
    """Fresh credentials as this machine's clock sees them: refused when already expired."""
    left = fresh.seconds_left()
    if left <= 0:
        raise UpstreamError(
            f"the credentials issued for profile {profile!r} expired {-left / 60:.0f} min ago by this"
            f" machine's clock ({fresh.expiration_iso}); check the system clock",
            profile=profile,
        )
    if left < MIN_HANDOUT_SECONDS:
        log.warn(
            f"the credentials issued for profile {profile!r} expire in {left / 60:.0f} min"
            " (is the system clock right?)",
            topic="short-lived",
        )
    return fresh
