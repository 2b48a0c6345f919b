"""Overall deadlines and size caps: services that trickle their answer a byte every 2 s (so no
single read ever times out), or flood it, against the installed program.

The bounds measured here are the documented ones (docs/reliability.md): an export's network
phase ends within 30 s whatever the services do, an IdP exchange within 10 s, `login --timeout
N` within N s, and no answer over 1 MiB is read. Each bound gets `SLACK` for starting Python
and loading botocore on a loaded 2-core machine. The trickling runs go side by side.
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
    seed_sso_token,
    timed_run,
    write_sso_config,
)
from faulty import FaultyUpstream
from harness.sandbox import Sandbox
from harness.signin_server import SigninServer

EXPORT_BOUND = 30.0
IDP_BOUND = 10.0
SLACK = 8.0
LOGIN_TIMEOUT = 5


def _console_box(root: Path, sts_url: str, signin: SigninServer, signin_url: str) -> Sandbox:
    box = Sandbox(root, sts_url, {"AWS_ENDPOINT_URL_SIGNIN": signin_url})
    box.write_settings('cache = "file"\n')
    signin.new_session(
        box.home / ".aws" / "login" / "cache",
        config_file=box.home / ".aws" / "config",
        access_ttl=0,
        profile="dev",
    )
    return box


@dataclass
class Trickled:
    outcome: Outcome
    front: FaultyUpstream


@pytest.fixture(scope="module")
def trickled(tmp_path_factory, _proxy, _sso_server, _signin_server) -> Iterator[dict[str, Trickled]]:  # type: ignore[no-untyped-def]
    """Every service trickling at once, one export against each; STS gets a second, waiting export."""
    _sso_server.reset()
    _signin_server.reset()
    fronts = {
        name: FaultyUpstream(dialect="aws-json") for name in ("sts", "sso", "sso-oidc", "signin", "idp")
    }
    for front in fronts.values():
        front.fault = "trickle"

    def root(name: str) -> Path:
        return tmp_path_factory.mktemp(name)

    sts_box = Sandbox(root("sts"), fronts["sts"].url)
    sts_box.write_settings('cache = "file"\n')
    sts_profile = sts_box.role_chain(depth=1)
    portal_box = Sandbox(root("sso"), _proxy.url, {"AWS_ENDPOINT_URL_SSO": fronts["sso"].url})
    renewal_box = Sandbox(root("sso-oidc"), _proxy.url, {"AWS_ENDPOINT_URL_SSO_OIDC": fronts["sso-oidc"].url})
    for box, ttl in ((portal_box, 3600), (renewal_box, -60)):
        box.write_settings('cache = "file"\n')
        write_sso_config(box)
        seed_sso_token(box, _sso_server, access_ttl=ttl)
    console_box = _console_box(root("signin"), _proxy.url, _signin_server, fronts["signin"].url)
    idp_box = oidc_box(root("idp"), _proxy.url, fronts["idp"].url)

    launches = {
        "sts": Launch(sts_box, "--profile", sts_profile),
        "sso": Launch(portal_box, "--profile", "dev"),
        "sso-oidc": Launch(renewal_box, "--profile", "dev"),
        "signin": Launch(console_box, "--profile", "dev"),
        "idp": Launch(idp_box, "--profile", "corp"),
    }
    waited_for = time.monotonic() + 30
    while not fronts["sts"].arrivals and time.monotonic() < waited_for:
        time.sleep(0.05)
    launches["sts-waiter"] = Launch(sts_box, "--profile", sts_profile)  # queues for the renewal lock
    try:
        yield {
            name: Trickled(launch.result(), fronts[name.removesuffix("-waiter")])
            for name, launch in launches.items()
        }
    finally:
        for front in fronts.values():
            front.close()


_WHAT = {
    "sts": ("STS AssumeRole", "no answer within 30 s"),
    "sso": ("SSO GetRoleCredentials", "no answer within 30 s"),
    "sso-oidc": ("SSO-OIDC token renewal", "no answer within 30 s"),
    "signin": ("AWS Sign-In CreateOAuth2Token", "no answer within 30 s"),
    "idp": ("127.0.0.1", "did not answer within 10 s"),
}


@pytest.mark.parametrize("service", list(_WHAT))
def test_an_export_ends_within_its_bound_whatever_a_trickling_service_does(trickled, service):
    run = trickled[service]
    bound = IDP_BOUND if service == "idp" else EXPORT_BOUND
    assert run.outcome.seconds < bound + SLACK, run.outcome
    assert_one_line(run.outcome, 4, *_WHAT[service])
    assert run.front.arrivals, "the service was never called"


def test_no_lock_is_held_past_the_deadline(trickled):
    """The export waiting for the renewal lock gets it when the first one's deadline passes, and
    ends within its own bound: it does not wait out the 60 s lock timeout."""
    waiter = trickled["sts-waiter"].outcome
    assert waiter.seconds < EXPORT_BOUND + SLACK, waiter
    assert_one_line(waiter, 4, "STS AssumeRole", "30 s")


def test_login_timeout_covers_the_silent_renewal(tmp_path, sts, signin):
    front = FaultyUpstream(dialect="aws-json")
    front.fault = "trickle"
    try:
        box = _console_box(tmp_path, sts.url, signin, front.url)
        outcome = timed_run(box, "login", "--profile", "dev", "--timeout", str(LOGIN_TIMEOUT))
    finally:
        front.close()
    assert outcome.seconds < LOGIN_TIMEOUT + SLACK, outcome
    assert_one_line(outcome, 4, "AWS Sign-In CreateOAuth2Token", f"no answer within {LOGIN_TIMEOUT} s")
    assert front.arrivals


@pytest.mark.parametrize("fault", ["flood", "flood-error"])
def test_an_idp_answer_over_1_mib_is_refused_unread(tmp_path, sts, fault):
    front = FaultyUpstream(dialect="oauth")
    front.fault = fault
    try:
        outcome = timed_run(oidc_box(tmp_path, sts.url, front.url), "--profile", "corp")
    finally:
        front.close()
    assert_one_line(outcome, 4, "127.0.0.1", "larger than 1 MiB")
    assert outcome.seconds < IDP_BOUND, outcome


# --- the JWKS fetch, in process against the real front -----------------------------------------


def _provider(front: FaultyUpstream):  # type: ignore[no-untyped-def]
    from cred_export.idp.oidc import Provider

    return Provider(front.url, front.url, front.url, front.url + "/jwks", None, ("RS256",))


@pytest.mark.parametrize("fault", ["trickle", "flood"])
def test_the_signing_key_fetch_is_bounded_and_capped(fault):
    from cred_export.errors import UpstreamError
    from cred_export.idp.id_token import validate

    front = FaultyUpstream(dialect="oauth")
    front.fault = fault
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamError) as refused:
            validate("eyJhbGciOiJSUzI1NiJ9.e30.sig", _provider(front), "client")
    finally:
        front.close()
    assert time.monotonic() - started < IDP_BOUND + 2
    expected = "did not answer within 10 s" if fault == "trickle" else "larger than 1 MiB"
    assert expected in str(refused.value)
