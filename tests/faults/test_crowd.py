"""A crowd: 64 concurrent exports of one profile, each caller calling again and again at a bounded
rate, while the cached credentials run out every few seconds. Zero failed calls, nothing handed
out below the 10-minute floor, and exactly one upstream fetch per expiry — each made while the
cache held nothing fresh, never two at once.

Expiries alternate between "inside the refresh window" (one caller refreshes, the others keep
using what is cached) and "below the hand-out floor" (every caller waits for the one refresh).
They are produced by rewriting the cached record's expiry under the refresh lock, exactly the
state the passage of time leaves behind.

CRED_EXPORT_SOAK_SECONDS (default 60) sets the duration: a longer soak is one variable away,
e.g. CRED_EXPORT_SOAK_SECONDS=1800. CRED_EXPORT_CROWD sets the crowd size (default 64).
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from faultkit import seconds_until
from faulty import FaultyUpstream
from harness.sandbox import Sandbox, age_record

from cred_export.fast import record

SOAK_SECONDS = float(os.environ.get("CRED_EXPORT_SOAK_SECONDS", "60"))
CROWD = int(os.environ.get("CRED_EXPORT_CROWD", "64"))
PAUSE_SECONDS = 1.0  # each caller's pause between calls: at most CROWD calls a second
EXPIRY_EVERY = 15.0
REFRESH_AHEAD = 15 * 60
HAND_OUT_FLOOR = 10 * 60
# How the expirer leaves the cached record: inside the refresh window, or below the floor.
EXPIRY_KINDS = (12 * 60, 5 * 60)
CALL_TIMEOUT = 120.0


@dataclass
class Tally:
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    short: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, code: int, out: str, err: str) -> None:
        with self.lock:
            self.calls += 1
            if code != 0 or err:
                self.failures.append(f"exit {code}: {err.strip()[:300]}")
                return
            left = seconds_until(json.loads(out)["Credentials"]["Expiration"])
            if left < HAND_OUT_FLOOR - 5:
                self.short.append(left)


class CachedEntry:
    """The one cached record of the crowd's profile, read and rewritten as the test needs."""

    def __init__(self, box: Sandbox, key: str) -> None:
        self.path = box.cache_dir / "credentials" / key
        self.lock_path = box.cache_dir / "locks" / f"{key}.lock"

    def seconds_left(self) -> float:
        creds = record.decode(self.path.read_text())
        assert creds is not None, "the cached record is not whole"
        return creds.seconds_left()

    def expire(self, seconds_left: int) -> None:
        """Rewrite the expiry atomically, holding the refresh lock as a refresher would."""
        with hold(self.lock_path):
            aged = age_record(self.path.read_text(), seconds_left)
            fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w") as handle:
                handle.write(aged)
            os.replace(temp, self.path)


@contextmanager
def hold(lock_path: Path, timeout: float = 60) -> Iterator[None]:
    with open(lock_path, "a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the refresh lock stayed busy"
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def caller(box: Sandbox, profile: str, tally: Tally, stop: threading.Event) -> None:
    while not stop.is_set():
        process = box.popen("--profile", profile)
        try:
            out, err = process.communicate(timeout=CALL_TIMEOUT)
            tally.record(process.returncode, out, err)
        except Exception as exc:  # an overrun, or a leak the sandbox found
            process.kill()
            tally.record(1, "", f"{type(exc).__name__}: {exc}")
        stop.wait(PAUSE_SECONDS)


def wait_until_refreshed(entry: CachedEntry, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while entry.seconds_left() < REFRESH_AHEAD:
        assert time.monotonic() < deadline, "no caller refreshed the expired credentials"
        time.sleep(0.1)


def expire_repeatedly(entry: CachedEntry, seconds: float) -> list[float]:
    """Let the credentials run out every EXPIRY_EVERY seconds for `seconds`; how long each refresh took."""
    started, took = time.monotonic(), []
    while time.monotonic() - started < seconds - EXPIRY_EVERY / 2:
        time.sleep(max(0.0, started + (len(took) + 0.5) * EXPIRY_EVERY - time.monotonic()))
        expired = time.monotonic()
        entry.expire(EXPIRY_KINDS[len(took) % len(EXPIRY_KINDS)])
        wait_until_refreshed(entry)
        took.append(time.monotonic() - expired)
    return took


def test_a_crowd_through_repeated_expiries(sandbox, sts):
    front = FaultyUpstream(sts.url)
    sandbox.env["AWS_ENDPOINT_URL_STS"] = front.url
    profile = sandbox.role_chain(depth=1)
    assert sandbox.run("--profile", profile).code == 0
    entry = CachedEntry(sandbox, sandbox.cache_key(profile))
    fresh_at_fetch: list[float] = []
    front.on_request = lambda _path: fresh_at_fetch.append(entry.seconds_left())

    tally, stop = Tally(), threading.Event()
    callers = [threading.Thread(target=caller, args=(sandbox, profile, tally, stop)) for _ in range(CROWD)]
    for thread in callers:
        thread.start()
    try:
        refreshes = expire_repeatedly(entry, SOAK_SECONDS)
    finally:
        stop.set()
        for thread in callers:
            thread.join(CALL_TIMEOUT + 10)
        front.close()

    assert tally.failures == [], f"{len(tally.failures)} of {tally.calls} calls failed: {tally.failures[:3]}"
    assert tally.short == [], f"{len(tally.short)} calls got credentials below the floor"
    assert len(refreshes) >= 2 and tally.calls > CROWD, (tally.calls, refreshes)
    # The first call's fetch, then exactly one per expiry.
    assert front.attempts() == 1 + len(refreshes), (front.arrivals, refreshes)
    assert front.max_in_flight == 1
    assert all(left < REFRESH_AHEAD for left in fresh_at_fetch), fresh_at_fetch
