"""Cached AWS credentials, refreshed through the single-flight renewal (`renewal.obtain`).

- More than `refresh_ahead` left: the cached credentials.
- Less than that but at least the minimum hand-out: refreshed if nobody else is refreshing;
  never a wait.
- Less than the minimum hand-out, or nothing cached: a bounded wait for the lock, a refresh.
- A failed refresh still hands out cached credentials with more than the grace left, with a
  warning.
- Fresh credentials that this machine's clock already sees as expired count as a failed refresh.

The three windows scale with the credentials' lifetime (`Credentials.refresh_ahead` & co.).
"""

from __future__ import annotations

from collections.abc import Callable

from cred_export import log
from cred_export.credentials import MIN_HANDOUT_SECONDS, Credentials, mask
from cred_export.errors import CredExportError, UpstreamError
from cred_export.renew import renewal
from cred_export.settings import Settings
from cred_export.stores import StoreUnavailable
from cred_export.stores.base import Store


class CachedCredentials:
    """The credentials a store keeps under `key`, as a `renewal.Renewable`."""

    def __init__(
        self,
        store: Store,
        key: str,
        fetch: Callable[[], Credentials],
        profile: str,
        settings: Settings,
        at_least: float = 0,
    ) -> None:
        self.store, self.key, self.fetch, self.profile = store, key, fetch, profile
        self.settings = settings
        self.at_least = at_least
        self.what = f"profile {profile!r}"
        self.lock_name = key

    def window(self, value: Credentials | None) -> renewal.Window:
        refresh_ahead = self.settings.refresh_ahead_seconds
        if value is None:
            return renewal.Window(
                refresh_ahead, MIN_HANDOUT_SECONDS, lock_timeout=self.settings.lock_timeout_seconds
            )
        # `at_least`: a caller that needs this much life (Claude Desktop's TTL) renews sooner.
        return renewal.Window(
            refresh_ahead=max(value.refresh_ahead(refresh_ahead), self.at_least),
            min_handout=max(value.min_handout(), self.at_least),
            grace=max(value.grace(), self.at_least),
            lock_timeout=self.settings.lock_timeout_seconds,
        )

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
        if value.assumed_expiry:
            log.debug(f"profile {self.profile}: the credentials came without an expiry; not cached")
            return
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
    at_least: float = 0,
) -> Credentials:
    """Credentials for `key`: cached, or fetched with `fetch` and cached (see the module doc).

    `at_least`: renew cached credentials with less than this many seconds left."""
    item = CachedCredentials(store, key, fetch, profile, settings, at_least)
    return renewal.obtain(item, grace_on=renewal.GRACE_ON if grace else ())


def _usable(fresh: Credentials, profile: str) -> Credentials:
    """Fresh credentials as this machine's clock sees them: refused when already expired."""
    left = fresh.seconds_left()
    if left <= 0:
        raise UpstreamError(
            f"the credentials issued for profile {profile!r} expired {-left / 60:.0f} min ago by this"
            f" machine's clock ({fresh.expiration_iso}); check the system clock",
            profile=profile,
        )
    return fresh
