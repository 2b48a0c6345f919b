"""The single-flight renewal and the credential refresh policy on top of it, in process.

A fake clock and a fake store make every branch reachable in milliseconds: the refresh window,
the minimum hand-out, a busy lock, a failed renewal with and without grace. Contention across
threads uses the real lock files; across processes it is proven end to end in
test_concurrency.py and faults/test_crowd.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import pytest

from cred_export.credentials import GRACE_SECONDS, MIN_HANDOUT_SECONDS, Credentials
from cred_export.errors import CredExportError, LoginRequired, UpstreamError
from cred_export.renew import cached_credentials, renewal
from cred_export.renew.lock import KeyLock
from cred_export.settings import Settings
from cred_export.stores import StoreUnavailable

NOW = 1_900_000_000.0
WINDOW = renewal.Window(refresh_ahead=900, min_handout=600, grace=360, lock_timeout=0.3)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class Item:
    """A value that expires at a number (its own expiry), renewed by `renew_with`."""

    def __init__(self, expiry: float | None, renew_with=None) -> None:  # type: ignore[no-untyped-def]
        self.value = expiry
        self.what = "the test item"
        self.lock_name = "test-item"
        self.renewals = 0
        self.writes: list[float] = []
        self.warnings: list[str] = []
        self._renew_with = renew_with or (lambda current: NOW + 3600)

    def window(self, value: float | None) -> renewal.Window:
        return WINDOW

    def read(self) -> float | None:
        return self.value

    def expiry(self, value: float) -> float:
        return value

    def renew(self, current: float | None) -> float:
        self.renewals += 1
        return self._renew_with(current)

    def write(self, value: float) -> None:
        self.writes.append(value)
        self.value = value

    def grace_warning(self, error: CredExportError, seconds_left: float) -> str:
        self.warnings.append(f"{error}: {seconds_left:.0f}")
        return f"{error}; {seconds_left:.0f} s left"


class FakeLock:
    """A lock that is free, or held by someone else for the whole test (`busy`)."""

    taken_with: ClassVar[list[float]] = []

    def __init__(self, busy: bool) -> None:
        self.busy = busy
        self.path = "/fake/lock"

    @contextmanager
    def held(self, timeout: float) -> Iterator[bool]:
        FakeLock.taken_with.append(timeout)
        yield not self.busy


def obtain(item: Item, *, busy: bool = False, clock: Clock | None = None, **kwargs):  # type: ignore[no-untyped-def]
    FakeLock.taken_with = []
    return renewal.obtain(item, clock=clock or Clock(), lock_factory=lambda name: FakeLock(busy), **kwargs)


def test_a_value_outside_the_refresh_window_is_handed_out_without_the_lock():
    item = Item(NOW + 901)
    assert obtain(item) == NOW + 901
    assert item.renewals == 0 and FakeLock.taken_with == []


def test_inside_the_refresh_window_it_is_renewed_when_the_lock_is_free_without_waiting():
    item = Item(NOW + 700)
    assert obtain(item) == NOW + 3600
    assert item.renewals == 1 and item.writes == [NOW + 3600]
    assert FakeLock.taken_with == [0]  # tried, never waited


def test_inside_the_refresh_window_a_busy_lock_means_the_current_value():
    item = Item(NOW + 700)
    assert obtain(item, busy=True) == NOW + 700
    assert item.renewals == 0


@pytest.mark.parametrize("expiry", [None, NOW + 599, NOW - 10])
def test_below_the_minimum_hand_out_it_waits_for_the_lock_and_renews(expiry):
    item = Item(expiry)
    assert obtain(item) == NOW + 3600
    assert FakeLock.taken_with == [WINDOW.lock_timeout]


def test_below_the_minimum_hand_out_a_lock_that_stays_busy_is_an_error_naming_the_lock():
    item = Item(NOW + 100)
    with pytest.raises(CredExportError, match=r"renewing the test item for over 0\.3 s.*/fake/lock"):
        obtain(item, busy=True)
    assert item.renewals == 0


def test_what_another_process_renewed_while_we_waited_is_used_as_it_is():
    item = Item(None)

    @contextmanager
    def held_while_another_renews(timeout: float) -> Iterator[bool]:
        item.value = NOW + 3000  # the previous holder wrote it before letting go
        yield True

    lock = FakeLock(busy=False)
    lock.held = held_while_another_renews  # type: ignore[method-assign]
    assert renewal.obtain(item, clock=Clock(), lock_factory=lambda name: lock) == NOW + 3000
    assert item.renewals == 0 and item.writes == []


def _failing(error: CredExportError):  # type: ignore[no-untyped-def]
    def renew(current: float | None) -> float:
        raise error

    return renew


@pytest.mark.parametrize("error", [UpstreamError("STS said no"), LoginRequired("p", "session over")])
def test_a_failed_renewal_hands_out_the_old_value_with_a_warning_while_it_has_more_than_grace(error):
    item = Item(NOW + 361, renew_with=_failing(error))
    assert obtain(item) == NOW + 361
    assert len(item.warnings) == 1 and item.writes == []


def test_a_failed_renewal_without_enough_left_for_grace_raises():
    item = Item(NOW + 360, renew_with=_failing(UpstreamError("STS said no")))
    with pytest.raises(UpstreamError):
        obtain(item)
    assert item.warnings == []


def test_a_failed_renewal_raises_when_the_caller_allows_no_grace():
    item = Item(NOW + 500, renew_with=_failing(UpstreamError("STS said no")))
    with pytest.raises(UpstreamError):
        obtain(item, grace_on=())


def test_grace_covers_only_the_failures_the_caller_names():
    item = Item(NOW + 500, renew_with=_failing(LoginRequired("p")))
    with pytest.raises(LoginRequired):
        obtain(item, grace_on=(UpstreamError,))


def test_a_failed_renewal_with_nothing_cached_raises():
    with pytest.raises(UpstreamError):
        obtain(Item(None, renew_with=_failing(UpstreamError("down"))))


def test_renew_may_hand_back_the_current_value_which_is_then_not_written():
    item = Item(NOW + 700, renew_with=lambda current: current)
    assert obtain(item) == NOW + 700
    assert item.renewals == 1 and item.writes == []


def test_the_window_follows_the_clock():
    clock = Clock()
    item = Item(NOW + 1000)
    assert obtain(item, clock=clock) == NOW + 1000 and item.renewals == 0
    clock.now += 200  # 800 s left: inside the refresh window
    assert obtain(item, clock=clock) == NOW + 3600 and item.renewals == 1


def test_concurrent_threads_renew_once_through_the_real_lock(tmp_path, monkeypatch):
    monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(tmp_path))
    item = Item(None)
    lock = threading.Lock()

    def slow_renew(current: float | None) -> float:
        time.sleep(0.2)
        return time.time() + 3600

    item._renew_with = slow_renew
    item.read = lambda: item.value  # type: ignore[method-assign]
    window = renewal.Window(refresh_ahead=900, min_handout=600, lock_timeout=10)
    item.window = lambda value: window  # type: ignore[method-assign]
    results: list[float] = []

    def call() -> None:
        value = renewal.obtain(item, lock_factory=KeyLock)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == 8 and len(set(results)) == 1
    assert item.renewals == 1


# --- cached_credentials.obtain: the policy for cached AWS credentials ---------------------------------------


class DictStore:
    name = kind = "test"
    is_os_keyring = False
    fallback_reason = None

    def __init__(self, fail_reads: bool = False, fail_writes: bool = False) -> None:
        self.entries: dict[str, Credentials] = {}
        self.fail_reads, self.fail_writes = fail_reads, fail_writes

    def get(self, key: str) -> Credentials | None:
        if self.fail_reads:
            raise StoreUnavailable("the test store is down")
        return self.entries.get(key)

    def put(self, key: str, creds: Credentials) -> None:
        if self.fail_writes:
            raise StoreUnavailable("the test store is full")
        self.entries[key] = creds

    def get_text(self, key: str) -> str | None:
        return None

    def put_text(self, key: str, text: str) -> None:
        pass

    def delete(self, key: str) -> None:
        self.entries.pop(key, None)


def creds(seconds_left: float, lifetime: float | None = None) -> Credentials:
    now = time.time()
    issued = now + seconds_left - lifetime if lifetime else None
    return Credentials("ASIATESTTESTTESTTEST", "secret", "token", now + seconds_left, issued)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_refresh_hands_out_fresh_cached_credentials_without_fetching(cache_dir):
    store = DictStore()
    store.entries["k"] = cached = creds(3000)
    fetched = []
    assert (
        cached_credentials.obtain(store, "k", Settings(), lambda: fetched.append(1) or creds(3600), "p")
        == cached
    )
    assert fetched == []


def test_refresh_fetches_and_caches_inside_the_refresh_window(cache_dir):
    store = DictStore()
    store.entries["k"] = creds(MIN_HANDOUT_SECONDS + 60)
    fresh = creds(3600)
    assert cached_credentials.obtain(store, "k", Settings(), lambda: fresh, "p") == fresh
    assert store.entries["k"] == fresh


def test_refresh_refuses_credentials_already_expired_by_this_clock(cache_dir):
    with pytest.raises(UpstreamError, match="check the system clock"):
        cached_credentials.obtain(DictStore(), "k", Settings(), lambda: creds(-60), "p")


def test_refresh_serves_a_still_valid_entry_when_the_fetch_fails_unless_grace_is_off(cache_dir, capsys):
    store = DictStore()
    store.entries["k"] = cached = creds(GRACE_SECONDS + 120)

    def down() -> Credentials:
        raise UpstreamError("STS AssumeRole failed")

    assert cached_credentials.obtain(store, "k", Settings(), down, "p") == cached
    assert "using cached credentials that expire in 8 min" in capsys.readouterr().err
    with pytest.raises(UpstreamError):
        cached_credentials.obtain(store, "k", Settings(), down, "p", grace=False)


def test_refresh_survives_a_store_that_cannot_be_read_or_written(cache_dir, capsys):
    fresh = creds(3600)
    assert cached_credentials.obtain(DictStore(fail_reads=True), "k", Settings(), lambda: fresh, "p") == fresh
    assert (
        cached_credentials.obtain(DictStore(fail_writes=True), "k", Settings(), lambda: fresh, "p") == fresh
    )
    err = capsys.readouterr().err
    assert "could not read the cache" in err and "could not cache the credentials" in err


@pytest.mark.parametrize(
    "lifetime, refresh_ahead, min_handout, grace",
    [
        (None, 900, 600, 360),  # unknown (an old record, pasted keys): the configured windows
        (43200, 900, 600, 360),
        (3600, 900, 600, 360),
        (1800, 900, 600, 360),
        (900, 450, 360, 330),  # a 900-second role, console credentials: hits for the first half
        (600, 360, 360, 330),  # shorter than Claude Code's margin allows: always keep > 5 min
    ],
)
def test_windows_scale_with_the_lifetime_and_always_keep_claude_codes_margin(
    lifetime, refresh_ahead, min_handout, grace
):
    fresh = creds(lifetime or 3600, lifetime)
    assert fresh.refresh_ahead(900) == refresh_ahead
    assert fresh.min_handout() == min_handout and fresh.grace() == grace
    assert fresh.grace() > 300 and fresh.min_handout() > fresh.grace()


def test_a_900_second_credential_is_served_from_the_cache_for_the_first_half_of_its_life(cache_dir):
    store = DictStore()
    fetched: list[Credentials] = []

    def fetch() -> Credentials:
        fetched.append(creds(900, 900))
        return fetched[-1]

    for _ in range(10):
        cached_credentials.obtain(store, "k", Settings(), fetch, "p")
    assert len(fetched) == 1
    store.entries["k"] = creds(451, 900)  # just inside the first half: still a hit
    cached_credentials.obtain(store, "k", Settings(), fetch, "p")
    assert len(fetched) == 1
    store.entries["k"] = creds(449, 900)  # the second half: refreshed
    cached_credentials.obtain(store, "k", Settings(), fetch, "p")
    assert len(fetched) == 2


def test_a_fresh_short_lived_credential_does_not_warn_about_the_clock(cache_dir, capsys):
    cached_credentials.obtain(DictStore(), "k", Settings(), lambda: creds(900, 900), "p")
    assert "clock" not in capsys.readouterr().err


def test_concurrent_cold_callers_fetch_short_lived_credentials_once(cache_dir):
    """The window that decides under the lock is the one of what is there then, not of nothing."""
    store = DictStore()
    fetched: list[Credentials] = []
    lock = threading.Lock()

    def fetch() -> Credentials:
        time.sleep(0.2)
        with lock:
            fetched.append(creds(900, 900))
            return fetched[-1]

    threads = [
        threading.Thread(target=cached_credentials.obtain, args=(store, "k", Settings(), fetch, "p"))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(fetched) == 1
