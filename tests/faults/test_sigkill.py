"""SIGKILL at random points of a refresh, many times in a row: the process beside it and the next
call always succeed, the cache entry is always whole (the old record or the new one), and no
lock is left held.

Rounds: CRED_EXPORT_KILL_ROUNDS (default 12). Kill times are random; the seed is printed on
failure, and CRED_EXPORT_KILL_SEED replays a run.
"""

from __future__ import annotations

import fcntl
import os
import random
import signal
import time
from pathlib import Path

from faultkit import seconds_until, timed_run
from harness.sandbox import Sandbox

from cred_export.fast import record

ROUNDS = int(os.environ.get("CRED_EXPORT_KILL_ROUNDS", "12"))
SEED = int(os.environ.get("CRED_EXPORT_KILL_SEED", str(random.randrange(1 << 30))))
# A cold call spends ~0.3 s starting, then resolves, locks, fetches and writes: kill anywhere in it.
KILL_WINDOW = (0.05, 1.6)
NEXT_CALL_BOUND = 20.0  # far below the 60 s lock wait a held lock would cause


def lock_is_free(path: Path) -> bool:
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def assert_cache_whole(box: Sandbox) -> None:
    for entry in box.cached_files():
        assert record.decode(entry.read_text()) is not None, f"{entry.name} is not a whole record"


def assert_no_lock_held(box: Sandbox) -> None:
    locks = box.cache_dir / "locks"
    held = [p.name for p in locks.glob("*.lock") if not lock_is_free(p)] if locks.exists() else []
    assert not held, f"locks still held: {held}"


def kill_round(box: Sandbox, profile: str, rng: random.Random) -> None:
    """Two refreshers race; one is killed at a random moment; the other must succeed."""
    box.set_cached_expiry(5 * 60)  # below the hand-out floor: every caller must refresh
    victim, survivor = box.popen("--profile", profile), box.popen("--profile", profile)
    if rng.random() < 0.5:
        victim, survivor = survivor, victim
    time.sleep(rng.uniform(*KILL_WINDOW))
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    _, err = survivor.communicate(timeout=90)
    assert survivor.returncode == 0, err
    assert err == "", err
    assert_cache_whole(box)
    assert_no_lock_held(box)


def test_killing_refreshers_at_random_points_loses_nothing(sandbox, sts):
    rng = random.Random(SEED)
    profile = sandbox.role_chain(depth=1)
    assert timed_run(sandbox, "--profile", profile).code == 0
    for round_number in range(ROUNDS):
        sts.delay = rng.choice([0.0, 0.0, 0.2, 0.5])  # sometimes the kill lands mid-fetch
        try:
            kill_round(sandbox, profile, rng)
            outcome = timed_run(sandbox, "--profile", profile)
        except AssertionError as exc:
            raise AssertionError(f"round {round_number}, CRED_EXPORT_KILL_SEED={SEED}: {exc}") from None
        assert outcome.code == 0 and outcome.stderr == "", outcome.stderr
        assert outcome.seconds < NEXT_CALL_BOUND
        assert seconds_until(outcome.credentials["Expiration"]) > 10 * 60
    assert sts.calls["AssumeRole"] <= 1 + 2 * ROUNDS
