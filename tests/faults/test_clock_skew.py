"""This machine's clock and the identity service's disagree: STS's `Expiration` arrives shifted.

A few minutes either way change nothing: the Expiration is handed on exactly as issued, cached
and refreshed by it. Credentials that arrive with less than the 10-minute hand-out floor get a
warning that names the clock; credentials that arrive already expired are refused with exit 4
(or, when a still-valid credential is cached, that one is served with a warning).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultkit import assert_one_line, seconds_until, seed_cached, timed_run
from faulty import FaultyUpstream


@pytest.fixture
def skewed(sandbox, sts) -> Iterator[FaultyUpstream]:  # type: ignore[no-untyped-def]
    front = FaultyUpstream(sts.url)
    sandbox.env["AWS_ENDPOINT_URL_STS"] = front.url
    yield front
    front.close()


@pytest.mark.parametrize("minutes", [-7, -3, 3, 7])
def test_a_few_minutes_of_skew_either_way_change_nothing(sandbox, skewed, minutes):
    skewed.skew_seconds = minutes * 60
    profile = sandbox.role_chain(depth=1)
    first = timed_run(sandbox, "--profile", profile)
    assert first.code == 0 and first.stderr == ""
    assert abs(seconds_until(first.credentials["Expiration"]) - (3600 + minutes * 60)) < 30
    second = timed_run(sandbox, "--profile", profile)
    assert second.credentials == first.credentials
    assert skewed.attempts() == 1


def test_skew_that_leaves_less_than_the_hand_out_floor_warns_about_the_clock(sandbox, skewed):
    skewed.skew_seconds = -8 * 60  # 15-minute credentials arrive with 7 minutes left
    profile = sandbox.role_chain(depth=1, duration_seconds="900")
    outcome = timed_run(sandbox, "--profile", profile)
    line = assert_one_line(outcome, 0, "7 min", "clock")
    assert "warning" in line
    assert 6 * 60 < seconds_until(outcome.credentials["Expiration"]) < 8 * 60


def test_credentials_expired_on_arrival_are_refused_naming_the_clock(sandbox, skewed):
    skewed.skew_seconds = -20 * 60  # 15-minute credentials arrive 5 minutes expired
    profile = sandbox.role_chain(depth=1, duration_seconds="900")
    outcome = timed_run(sandbox, "--profile", profile)
    assert_one_line(outcome, 4, "expired", "clock", profile)
    assert outcome.stdout == "" and sandbox.cached_files() == []


def test_credentials_expired_on_arrival_leave_a_valid_cached_one_in_service(sandbox, skewed):
    skewed.skew_seconds = -20 * 60
    profile = sandbox.role_chain(depth=1, duration_seconds="900")
    cached = seed_cached(sandbox, profile, 8 * 60)
    outcome = timed_run(sandbox, "--profile", profile)
    assert_one_line(outcome, 0, "warning", "clock", "expire in")
    assert outcome.credentials.items() >= cached.items()
