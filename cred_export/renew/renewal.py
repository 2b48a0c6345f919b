"""Single-flight renewal of anything that expires: AWS credentials, SSO tokens, OIDC sessions.

`obtain(item)` is the one policy, whatever the item; `item.window(value)` says when to renew:

1. Read. More than `window.refresh_ahead` left: hand it out.
2. Less, but at least `window.min_handout`: renew if nobody else is renewing (the lock is free
   right now); otherwise hand out what is there, without waiting.
3. Less than `min_handout`, or nothing: wait, at most `window.lock_timeout`, for the lock.
4. Under the lock, read again: the previous holder has usually renewed it already.
5. Renew and write. When renewal fails with one of the `grace_on` errors and the old value still
   has more than `window.grace` left, the old value is handed out with one warning. Such a
   renewal gets half of the network phase's time that is left (`deadline.share`), so that what
   follows the fallback still has time; a renewal with nothing to fall back on gets it all.

Renewal may rotate refresh tokens, so no two processes may renew the same item at once: the
lock is per item and the second read makes any number of concurrent callers renew once.
`renew` may return the value it was given when there is nothing better to be had (an SSO
token that cannot be refreshed but still works); it is then handed out and not written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Protocol, TypeVar

from cred_export import log
from cred_export.errors import CredExportError, LoginRequired, UpstreamError
from cred_export.renew.lock import KeyLock
from cred_export.util import deadline

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """When to renew, in seconds before expiry."""

    refresh_ahead: float  # renew when less than this is left
    min_handout: float  # never hand out less than this while renewal may succeed: wait for it
    grace: float = float("inf")  # after a failed renewal, hand out the old value if it has more left
    lock_timeout: float = 60.0


class Renewable(Protocol[T]):
    """One thing that expires, with how to read, renew and write it."""

    what: str  # for messages: "profile 'dev'", "the SSO token of profile 'dev'"
    lock_name: str  # one lock per item

    def window(self, value: T | None) -> Window: ...

    def read(self) -> T | None: ...

    def expiry(self, value: T) -> float: ...

    def renew(self, current: T | None) -> T: ...

    def write(self, value: T) -> None: ...

    def grace_warning(self, error: CredExportError, seconds_left: float) -> str: ...


GRACE_ON: tuple[type[CredExportError], ...] = (UpstreamError, LoginRequired)


def obtain(
    item: Renewable[T],
    *,
    grace_on: tuple[type[CredExportError], ...] = GRACE_ON,
    clock: Callable[[], float] = time.time,
    lock_factory: Callable[[str], KeyLock] = KeyLock,
) -> T:
    """The item's value with time left, renewing it (once across processes) when due."""
    current = item.read()
    window = item.window(current)
    if _left(item, current, clock) >= window.refresh_ahead:
        log.debug(f"{item.what}: {_left(item, current, clock) / 60:.0f} min left, no renewal due")
        return current  # type: ignore[return-value]
    lock = lock_factory(item.lock_name)
    waits = _left(item, current, clock) < window.min_handout
    with lock.held(window.lock_timeout if waits else 0) as taken:
        if not taken and not waits:
            log.debug(f"another process is renewing {item.what}; handing out what is cached")
            return current  # type: ignore[return-value]
        if not taken:
            raise CredExportError(
                f"another cred-export has been renewing {item.what} for over"
                f" {window.lock_timeout:g} s; try again (lock file {lock.path})"
            )
        return _renew(item, grace_on, clock)


def _renew(item: Renewable[T], grace_on: tuple[type[CredExportError], ...], clock: Callable[[], float]) -> T:
    current = item.read()
    window = item.window(current)  # what another process wrote meanwhile has its own lifetime
    if _left(item, current, clock) >= window.refresh_ahead:
        log.debug(f"{item.what}: renewed by another process meanwhile")
        return current  # type: ignore[return-value]
    may_fall_back = bool(grace_on) and current is not None and _left(item, current, clock) > window.grace
    try:
        with deadline.share() if may_fall_back else nullcontext():
            renewed = item.renew(current)
    except grace_on as exc:
        left = _left(item, current, clock)
        if current is not None and left > window.grace:
            log.warn(item.grace_warning(exc, left))
            return current
        raise
    if renewed is not current:
        item.write(renewed)
    return renewed


def _left(item: Renewable[T], value: T | None, clock: Callable[[], float]) -> float:
    return item.expiry(value) - clock() if value is not None else float("-inf")
