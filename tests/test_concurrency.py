"""Single flight: many processes at once, one upstream refresh; dead holders block nobody."""

from __future__ import annotations

import os
import signal
import time

import pytest

CROWD = 32


def run_crowd(box, profile: str, count: int) -> list[tuple[int, str, str]]:
    processes = [box.popen("--profile", profile) for _ in range(count)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        results.append((process.returncode, out, err))
    return results


@pytest.mark.parametrize("store", ["file", "keyring"])
def test_concurrent_cold_calls_make_exactly_one_upstream_call(request, store, sts):
    box = request.getfixturevalue("sandbox" if store == "file" else "keyring_sandbox")
    profile = box.role_chain(depth=1)
    results = run_crowd(box, profile, CROWD)
    assert [code for code, _, _ in results] == [0] * CROWD, results[0][2]
    assert len({out for _, out, _ in results}) == 1
    assert sts.calls["AssumeRole"] == 1
    assert [err for _, _, err in results if err] == []


def test_a_holder_killed_mid_refresh_does_not_block_the_next_call(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sts.delay = 20
    holder = sandbox.popen("--profile", profile)
    deadline = time.monotonic() + 30
    while sts.calls["AssumeRole"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sts.calls["AssumeRole"] == 1, "the holder never reached STS"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    sts.delay = 0
    started = time.monotonic()
    result = sandbox.run("--profile", profile, timeout=60)
    assert result.code == 0, result.stderr
    assert time.monotonic() - started < 10
    assert sandbox.run("--profile", profile).credentials == result.credentials


def test_callers_with_valid_cache_do_not_wait_for_a_refresher(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(12 * 60)  # inside the refresh window, above the hand-out floor
    sts.delay = 15
    refresher = sandbox.popen("--profile", profile)
    deadline = time.monotonic() + 30
    while sts.calls["AssumeRole"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    bystander = sandbox.run("--profile", profile)
    assert time.monotonic() - started < 5
    assert bystander.credentials["AccessKeyId"] == first.credentials["AccessKeyId"]
    refresher.kill()
    refresher.wait(timeout=10)
