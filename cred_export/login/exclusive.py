"""One interactive sign-in per machine at a time, so parallel calls never open a storm of tabs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO, TypeVar

from cred_export import log
from cred_export.errors import LoginRequired
from cred_export.login.browser import can_open_browser
from cred_export.renew.lock import KeyLock

SIGN_IN_LOCK = "interactive-sign-in"
T = TypeVar("T")
_held: ContextVar[bool] = ContextVar("sign_in_lock_held", default=False)


@contextmanager
def exclusive_sign_in(profile: str, deadline: float, out: TextIO) -> Iterator[None]:
    """Hold the machine-wide sign-in lock, waiting for another sign-in until `deadline`.

    Callers should check again, inside, whether the sign-in they waited for made theirs moot.
    Nested in a block that holds it already (a browser sign-in run by `sign_in_once`), it takes
    nothing and waits for nothing.
    """
    if _held.get():
        yield
        return
    lock = KeyLock(SIGN_IN_LOCK)
    if not lock.try_acquire():
        print("Another sign-in is in progress; waiting for it to finish…", file=out, flush=True)
        if not lock.acquire(max(0.0, deadline - time.monotonic())):
            raise LoginRequired(profile, "another sign-in did not finish in time")
    held = _held.set(True)
    try:
        yield
    finally:
        _held.reset(held)
        lock.release()


def sign_in_once(
    profile: str,
    *,
    flow: str,
    deadline: float,
    out: TextIO,
    already_signed_in: Callable[[], T],
    browser: Callable[[], T],
    device: Callable[[], T],
) -> T:
    """An interactive sign-in under the machine-wide lock, unless it is no longer needed.

    `already_signed_in` runs first, inside the lock (a sign-in we waited for may have been for
    the same session) and raises LoginRequired when it is not. `flow` is "browser", "device",
    or "auto": the browser where one can be opened, else the device code.
    """
    with exclusive_sign_in(profile, deadline, out):
        try:
            return already_signed_in()
        except LoginRequired:
            pass
        use_device = flow == "device" or (flow == "auto" and not can_open_browser())
        log.debug(f"profile {profile}: interactive sign-in ({'device code' if use_device else 'browser'})")
        return device() if use_device else browser()
