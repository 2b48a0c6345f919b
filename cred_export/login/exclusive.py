"""One interactive sign-in per machine at a time, so parallel calls never open a storm of tabs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from cred_export.errors import sign_in_required
from cred_export.lock import KeyLock

SIGN_IN_LOCK = "interactive-sign-in"


@contextmanager
def exclusive_sign_in(profile: str, deadline: float, out: TextIO) -> Iterator[None]:
    """Hold the machine-wide sign-in lock, waiting for another sign-in until `deadline`.

    Callers should check again, inside, whether the sign-in they waited for made theirs moot.
    """
    lock = KeyLock(SIGN_IN_LOCK)
    if not lock.try_acquire():
        print("Another sign-in is in progress; waiting for it to finish…", file=out, flush=True)
        if not lock.acquire(max(0.0, deadline - time.monotonic())):
            raise sign_in_required(profile, "another sign-in did not finish in time")
    try:
        yield
    finally:
        lock.release()
