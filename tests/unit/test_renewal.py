"""`cred_export.renew.renewal`: the single-flight policy at the exact edges of its window.

The item is a number (its own expiry), the clock and the lock are fakes: every branch of
`obtain` is reached without a file, a process or a wait.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from cred_export import log
from cred_export.errors import ConfigError, CredExportError, LoginRequired, UpstreamError
from cred_export.renew import renewal

NOW = 1_900_000_000.0
WINDOW = renewal.Window(refresh_ahead=900, min_handout=600, grace=360, lock_timeout=5)


class Lock:
    """A lock that is free or busy, and records the waits it was asked for."""

    path = "/cache/locks/item.lock"

    def __init__(self, busy: bool = False) -> None:
        self.busy = busy
        self.waits: list[float] = []
        self.held_now = False

    @contextmanager
    def held(self, timeout: float) -> Iterator[bool]:
        self.waits.append(timeout)
        self.held_now = not self.busy
        try:
            yield not self.busy
        finally:
            self.held_now = False


class Item:
    """A renewable number: its value is its expiry. `stored` is what `read` returns, in turn."""

    what = "the test item"
    lock_name = "item"

    def __init__(
        self,
        *stored: float | None,
        window: renewal.Window = WINDOW,
        renew_to: float | None = NOW + 3600,
        error: CredExportError | None = None,
    ) -> None:
        self.stored = list(stored)
        self.window_for = window
        self.renew_to = renew_to
        self.error = error
        self.renewed_from: list[float | None] = []
        self.writes: list[float] = []
        self.windows_asked: list[float | None] = []
        self.lock: Lock | None = None

    def window(self, value: float | None) -> renewal.Window:
        self.windows_asked.append(value)
        return self.window_for

    def read(self) -> float | None:
        return self.stored.pop(0) if len(self.stored) > 1 else self.stored[0]

    def expiry(self, value: float) -> float:
        return value

    def renew(self, current: float | None) -> float:
        assert self.lock is None or self.lock.held_now, "renewed without holding the lock"
        self.renewed_from.append(current)
        if self.error is not None:
            raise self.error
        return current if self.renew_to is None else self.renew_to  # type: ignore[return-value]

    def write(self, value: float) -> None:
        self.writes.append(value)

    def grace_warning(self, error: CredExportError, seconds_left: float) -> str:
        return f"renewal failed ({error}); {seconds_left:.0f} s left"


def obtain(item: Item, lock: Lock | None = None, **kwargs) -> float | None:  # type: ignore[no-untyped-def]
    lock = lock or Lock()
    item.lock = lock
    names: list[str] = []

    def factory(name: str) -> Lock:
        names.append(name)
        return lock

    value = renewal.obtain(item, clock=lambda: NOW, lock_factory=factory, **kwargs)  # type: ignore[arg-type]
    assert names in ([], ["item"])  # one lock, the item's own
    return value


# --- the window ------------------------------------------------------------------------------


def test_the_window_defaults_wait_a_minute_and_grant_no_grace():
    window = renewal.Window(refresh_ahead=900, min_handout=600)
    assert window.lock_timeout == 60
    assert window.grace == float("inf")
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.grace = 0  # type: ignore[misc]


def test_the_default_lock_timeout_is_what_a_caller_waits_for():
    lock = Lock()
    obtain(Item(NOW + 100, window=renewal.Window(refresh_ahead=900, min_handout=600)), lock)
    assert lock.waits == [60]


def test_more_than_refresh_ahead_left_is_handed_out_untouched():
    item = Item(NOW + 901)
    lock = Lock()
    assert obtain(item, lock) == NOW + 901
    assert item.renewed_from == [] and lock.waits == [] and item.writes == []


def test_exactly_refresh_ahead_left_is_still_handed_out_untouched():
    item = Item(NOW + 900)
    lock = Lock()
    assert obtain(item, lock) == NOW + 900
    assert item.renewed_from == [] and lock.waits == []
    assert item.windows_asked == [NOW + 900]  # the window is the value's own


def test_debug_says_how_long_is_left(monkeypatch, capsys):
    monkeypatch.setattr(log, "_debug", True)
    obtain(Item(NOW + 2400))
    assert capsys.readouterr().err.endswith("the test item: 40 min left, no renewal due\n")


def test_just_under_refresh_ahead_renews_without_waiting_when_the_lock_is_free():
    item = Item(NOW + 899.5)
    lock = Lock()
    assert obtain(item, lock) == NOW + 3600
    assert lock.waits == [0]  # only if free right now
    assert item.renewed_from == [NOW + 899.5] and item.writes == [NOW + 3600]


def test_exactly_min_handout_left_with_a_busy_lock_is_handed_out_without_waiting(monkeypatch, capsys):
    monkeypatch.setattr(log, "_debug", True)
    item = Item(NOW + 600)
    lock = Lock(busy=True)
    assert obtain(item, lock) == NOW + 600
    assert lock.waits == [0] and item.renewed_from == []
    assert "another process is renewing the test item; handing out what is cached" in capsys.readouterr().err


def test_less_than_min_handout_waits_for_the_lock_then_renews():
    item = Item(NOW + 599.5)
    lock = Lock()
    assert obtain(item, lock) == NOW + 3600
    assert lock.waits == [5]
    assert item.writes == [NOW + 3600]


def test_nothing_stored_waits_for_the_lock_then_renews():
    item = Item(None)
    lock = Lock()
    assert obtain(item, lock) == NOW + 3600
    assert lock.waits == [5] and item.renewed_from == [None] and item.windows_asked[0] is None


def test_less_than_min_handout_with_the_lock_busy_past_the_timeout_fails_naming_the_lock():
    item = Item(NOW + 599.5)
    with pytest.raises(CredExportError) as raised:
        obtain(item, Lock(busy=True))
    assert str(raised.value) == (
        "another cred-export has been renewing the test item for over 5 s; try again"
        " (lock file /cache/locks/item.lock)"
    )
    assert item.renewed_from == []


def test_the_timeout_in_the_message_is_the_window_s():
    item = Item(None, window=renewal.Window(refresh_ahead=900, min_handout=600, lock_timeout=2.5))
    with pytest.raises(CredExportError, match=r"for over 2\.5 s;"):
        obtain(item, Lock(busy=True))


# --- under the lock ----------------------------------------------------------------------------


def test_what_another_process_renewed_meanwhile_is_handed_out_not_renewed(monkeypatch, capsys):
    monkeypatch.setattr(log, "_debug", True)
    item = Item(NOW + 100, NOW + 900)  # the second read, under the lock, finds exactly enough
    assert obtain(item) == NOW + 900
    assert item.renewed_from == [] and item.writes == []
    assert item.windows_asked == [NOW + 100, NOW + 900]  # its own window, for its own lifetime
    assert "the test item: renewed by another process meanwhile" in capsys.readouterr().err


def test_under_the_lock_the_value_read_again_is_renewed():
    item = Item(NOW + 100, NOW + 200)
    assert obtain(item) == NOW + 3600
    assert item.renewed_from == [NOW + 200]


def test_a_renewal_that_returns_the_same_value_hands_it_out_without_writing():
    item = Item(NOW + 700, renew_to=None)
    assert obtain(item) == NOW + 700
    assert item.renewed_from == [NOW + 700] and item.writes == []


# --- grace after a failed renewal ----------------------------------------------------------------


@pytest.mark.parametrize("error", [UpstreamError("down"), LoginRequired("dev")])
def test_a_failed_renewal_hands_out_the_old_value_with_one_warning_while_more_than_grace_is_left(
    error, capsys
):
    item = Item(NOW + 361, error=error)
    assert obtain(item) == NOW + 361
    assert capsys.readouterr().err == f"cred-export: warning: renewal failed ({error}); 361 s left\n"
    assert item.writes == []


def test_exactly_grace_left_is_not_enough():
    with pytest.raises(UpstreamError):
        obtain(Item(NOW + 360, error=UpstreamError("down")))


def test_the_default_window_grants_no_grace():
    window = renewal.Window(refresh_ahead=900, min_handout=600)
    with pytest.raises(UpstreamError):
        obtain(Item(NOW + 1, window=window, error=UpstreamError("down")))


def test_only_the_listed_errors_earn_grace():
    assert (UpstreamError, LoginRequired) == renewal.GRACE_ON
    with pytest.raises(ConfigError):
        obtain(Item(NOW + 700, error=ConfigError("bad")))
    with pytest.raises(UpstreamError):
        obtain(Item(NOW + 700, error=UpstreamError("down")), grace_on=())
    with pytest.raises(LoginRequired):
        obtain(Item(NOW + 700, error=LoginRequired("dev")), grace_on=(UpstreamError,))


def test_a_failed_renewal_with_nothing_stored_raises():
    window = renewal.Window(refresh_ahead=900, min_handout=600, grace=-1e12)
    with pytest.raises(UpstreamError):
        obtain(Item(None, window=window, error=UpstreamError("down")))


def test_nothing_stored_counts_as_no_time_left():
    left = renewal._left(Item(None), None, lambda: NOW)
    assert left == float("-inf")
    assert renewal._left(Item(None), NOW + 5, lambda: NOW) == 5
