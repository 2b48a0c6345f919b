"""Identity services that refuse, hang up, hang, fail or throttle: bounded retries, then exit 4 —
or, when a still-valid credential exists, that credential with one warning line.

The cases run side by side: the hung services first (each takes up to export's 30 s deadline:
10 s per attempt and backoff), the others while those wait. The tests below each check one outcome.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultkit import (
    Launch,
    Outcome,
    assert_one_line,
    oidc_box,
    seed_cached,
    seed_sso_token,
    write_sso_config,
)
from faulty import FaultyUpstream
from harness.sandbox import Sandbox

# Cached credentials with this much left are below the 10-minute hand-out floor (so a refresh
# must be tried) but above the 6-minute grace floor (so a failed refresh may still hand them out).
SPARE_SECONDS = 8 * 60
# botocore: 3 s to connect, 10 s to read, 3 attempts with backoff (~45 s at worst); IdP calls:
# one 10 s attempt. Lock waits are 60 s, so a failing refresh must end well within that.
RETRY_BOUND = 45.0
TOTAL_BOUND = 60.0
AWS_ATTEMPTS = 3


@dataclass(frozen=True)
class Case:
    service: str  # "sts", "sso-portal", "sso-oidc" (token renewal), "oidc-idp" (session renewal)
    fault: str  # "refused", "close", "hang", "500", "503", "throttle", or an STS error code
    spare: bool  # a still-valid credential (or, for sso-oidc, SSO access token) exists

    @property
    def id(self) -> str:
        return f"{self.service}-{self.fault}-{'spare' if self.spare else 'cold'}"


def _cases() -> list[Case]:
    faults = {
        "sts": ("refused", "close", "hang", "500", "503", "throttle", "ThrottlingException"),
        "sso-portal": ("refused", "hang", "503", "throttle"),
        "sso-oidc": ("refused", "hang", "503"),
        "oidc-idp": ("refused", "hang", "500"),
    }
    return [
        Case(service, fault, spare)
        for service, kinds in faults.items()
        for fault in kinds
        for spare in (False, True)
    ]


CASES = _cases()


@dataclass
class Run:
    outcome: Outcome
    started: float
    front: FaultyUpstream
    seeded: dict | None


def _front(target: str, dialect: str, fault: str) -> tuple[FaultyUpstream, str]:
    front = FaultyUpstream(target, dialect)
    front.fault = None if fault == "refused" else fault
    return front, front.refused_url if fault == "refused" else front.url


def _sts_case(root: Path, case: Case, sts_url: str, _sso) -> tuple[Sandbox, str, FaultyUpstream, dict | None]:  # type: ignore[no-untyped-def]
    front, url = _front(sts_url, "sts", case.fault)
    box = Sandbox(root, url)
    box.write_settings('cache = "file"\n')
    profile = box.role_chain(depth=1)
    return box, profile, front, seed_cached(box, profile, SPARE_SECONDS) if case.spare else None


def _sso_portal_case(
    root: Path, case: Case, sts_url: str, sso
) -> tuple[Sandbox, str, FaultyUpstream, dict | None]:  # type: ignore[no-untyped-def]
    front, url = _front(sso.url, "aws-json", case.fault)
    box = Sandbox(root, sts_url, {"AWS_ENDPOINT_URL_SSO": url, "AWS_ENDPOINT_URL_SSO_OIDC": sso.url})
    box.write_settings('cache = "file"\n')
    write_sso_config(box)
    seed_sso_token(box, sso)
    return box, "dev", front, seed_cached(box, "dev", SPARE_SECONDS) if case.spare else None


def _sso_oidc_case(
    root: Path, case: Case, sts_url: str, sso
) -> tuple[Sandbox, str, FaultyUpstream, dict | None]:  # type: ignore[no-untyped-def]
    front, url = _front(sso.url, "aws-json", case.fault)
    box = Sandbox(root, sts_url, {"AWS_ENDPOINT_URL_SSO": sso.url, "AWS_ENDPOINT_URL_SSO_OIDC": url})
    box.write_settings('cache = "file"\n')
    write_sso_config(box)
    # Inside the 15-minute renewal window: renewal is due; with `spare` the token still works.
    seed_sso_token(box, sso, access_ttl=600 if case.spare else -60)
    return box, "dev", front, None


def _oidc_idp_case(
    root: Path, case: Case, sts_url: str, _sso
) -> tuple[Sandbox, str, FaultyUpstream, dict | None]:  # type: ignore[no-untyped-def]
    front, url = _front("", "oauth", case.fault)
    box = oidc_box(root, sts_url, url)
    return box, "corp", front, seed_cached(box, "corp", SPARE_SECONDS) if case.spare else None


_SETUP = {
    "sts": _sts_case,
    "sso-portal": _sso_portal_case,
    "sso-oidc": _sso_oidc_case,
    "oidc-idp": _oidc_idp_case,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, _proxy, _sso_server) -> Iterator[dict[str, Run]]:  # type: ignore[no-untyped-def]
    _sso_server.reset()
    prepared = {}
    for case in CASES:
        root = tmp_path_factory.mktemp(case.id)
        prepared[case.id] = _SETUP[case.service](root, case, _proxy.url, _sso_server)
    launches = _launch_in_waves(prepared)
    try:
        yield {
            cid: Run(launches[cid].result(), launches[cid].started, front, seeded)
            for cid, (_, _, front, seeded) in prepared.items()
        }
    finally:
        for _, _, front, _ in prepared.values():
            front.close()


def _launch_in_waves(prepared: dict) -> dict[str, Launch]:  # type: ignore[type-arg]
    """Hung services first; the rest once those are waiting, so start-up load delays no timeout."""
    hung = [cid for cid in prepared if "-hang-" in cid]
    launches = {cid: Launch(prepared[cid][0], "--profile", prepared[cid][1]) for cid in hung}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(prepared[cid][2].arrivals for cid in hung):
        time.sleep(0.1)
    for cid, (box, profile, _, _) in prepared.items():
        if cid not in launches:
            launches[cid] = Launch(box, "--profile", profile)
    return launches


def _expected_attempts(case: Case) -> range:
    if case.fault == "refused":
        return range(0, 1)
    if case.service == "oidc-idp":
        return range(1, 2)
    if case.fault == "hang" and case.spare:
        # A renewal that can fall back on what it has gets half of export's 30 s (see
        # cred_export.util.deadline): a hung service is tried once or twice, not three times.
        return range(1, AWS_ATTEMPTS)
    return range(AWS_ATTEMPTS, AWS_ATTEMPTS + 1)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_failing_service_is_retried_within_a_bound(runs, case):
    run = runs[case.id]
    assert run.outcome.seconds < TOTAL_BOUND, run.outcome
    assert run.front.attempts() in _expected_attempts(case), run.front.arrivals
    if run.front.arrivals:
        ended = run.started + run.outcome.seconds
        assert ended - run.front.arrivals[0][0] < RETRY_BOUND


_COLD_CASES = [c for c in CASES if not c.spare]
_SPARE_CASES = [c for c in CASES if c.spare]
_WHAT_FAILED = {
    "sts": "STS AssumeRole",
    "sso-portal": "SSO GetRoleCredentials",
    "sso-oidc": "SSO-OIDC token renewal",
    "oidc-idp": "127.0.0.1",
}


@pytest.mark.parametrize("case", _COLD_CASES, ids=[c.id for c in _COLD_CASES])
def test_without_a_valid_credential_the_failure_is_exit_4_with_one_line(runs, case):
    outcome = runs[case.id].outcome
    line = assert_one_line(outcome, 4, _WHAT_FAILED[case.service])
    assert outcome.stdout == ""
    assert line.startswith("cred-export: ")


@pytest.mark.parametrize("case", _SPARE_CASES, ids=[c.id for c in _SPARE_CASES])
def test_a_still_valid_credential_is_served_with_one_warning(runs, case):
    run = runs[case.id]
    line = assert_one_line(run.outcome, 0, "warning")
    if run.seeded is not None:
        assert run.outcome.credentials.items() >= run.seeded.items()
        assert "expire in 8 min" in line or "expire in 7 min" in line
    else:  # the SSO access token was used for its last minutes; the portal issued credentials
        assert "could not renew the SSO token" in line
        assert run.outcome.credentials["AccessKeyId"].startswith("ASIA")
