"""One overall deadline for a command's network phase, and the bound of each network call in it.

Per-read timeouts do not bound a call: an answer that trickles a byte every few seconds resets
them forever. So every network call (botocore clients through `cred_export.aws.clients`, the IdP client
and the JWKS fetch through `cred_export.util.http`) runs for at most `ATTEMPT_SECONDS` as a whole —
connecting and every read — and never past the deadline of the phase it runs in:

    with deadline.phase(EXPORT_SECONDS):   # export: its network phase ends within 30 s
        ...every call made here...

Phases nest: an inner phase ends no later than the outer one, unless it is a sign-in's own
(`extend=True`), which has its own time limit. `share()` gives a renewal that can fall back to a
still-valid value half of what is left, so the calls that follow that fallback still have time.
Outside any phase each call keeps only its own bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

ATTEMPT_SECONDS = 10.0  # one HTTP exchange, connect to last byte
EXPORT_SECONDS = 30.0  # export's whole network phase, whatever the services do
CHECK_SECONDS = 30.0  # one doctor check's network phase

_deadline: float | None = None  # time.monotonic() at which the current phase ends
_length: float = 0.0  # the phase's length as the user knows it (a shared part keeps its outer's)


class DeadlinePassed(Exception):
    """The phase's deadline passed before the call could finish."""


def left() -> float | None:
    """Seconds left in the current phase (never below 0), or None outside any phase."""
    return None if _deadline is None else max(0.0, _deadline - time.monotonic())


def call_bound(per_call: float = ATTEMPT_SECONDS) -> tuple[float, bool]:
    """(seconds the next call may take, whether the phase's deadline is what limits it).

    DeadlinePassed when the phase has no time left for a call."""
    remaining = left()
    if remaining is None or remaining >= per_call:
        return per_call, False
    if remaining <= 0:
        raise DeadlinePassed(seconds_text())
    return remaining, True


def seconds_text() -> str:
    """How long the phase was, for messages: "30 s"."""
    return f"{_length:.0f} s"


@contextmanager
def phase(seconds: float, *, extend: bool = False, shown: float | None = None) -> Iterator[None]:
    """Run the block as a network phase that ends within `seconds` (see the module doc)."""
    global _deadline, _length
    saved = _deadline, _length
    ends = time.monotonic() + seconds
    if extend or _deadline is None or ends < _deadline:
        _deadline, _length = ends, seconds if shown is None else shown
    try:
        yield
    finally:
        _deadline, _length = saved


@contextmanager
def until(monotonic_deadline: float) -> Iterator[None]:
    """A phase ending at a given `time.monotonic()` instant (a `login --timeout`)."""
    with phase(max(0.0, monotonic_deadline - time.monotonic())):
        yield


@contextmanager
def share(fraction: float = 0.5) -> Iterator[None]:
    """Inside a phase, a nested phase with `fraction` of what is left; outside one, nothing."""
    remaining = left()
    if remaining is None:
        yield
        return
    with phase(remaining * fraction, shown=_length):
        yield
