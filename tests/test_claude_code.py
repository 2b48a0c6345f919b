"""The real Claude Code CLI, started with `claude -p`, getting its AWS credentials from cred-export.

Claude Code (npm `@anthropic-ai/claude-code`, pinned in tests/claude_code) runs in a sandbox's
HOME wired by `cred-export setup claude`, in Bedrock mode against the Bedrock stand-in, which
checks every signature and every Bedrock API key against the secret STS (moto), the SSO portal
or AWS Sign-In really issued, and refuses anything else with 403. Each start counts the hooks
Claude Code ran and checks that nothing left the loopback interface (see harness.claude_code).

What Claude Code 2.1.332 does at start, as these tests pin it down: with no `AWS_PROFILE` its own
AWS SDK resolves nothing, so it runs `awsAuthRefresh` (`cred-export login`) once and then
`awsCredentialExport` once; with an `AWS_PROFILE` its SDK can resolve, it runs only the export.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import claude_code
from harness.aws_signature import issued_by
from harness.bedrock_server import BedrockServer
from harness.claude_code import ClaudeCode, Start
from harness.require import require
from harness.sandbox import Sandbox
from harness.signin_server import DEFAULT_IDENTITY

BROWSER_SCRIPT = Path(__file__).parent / "harness" / "browser.py"
START_URL = "https://corp.awsapps.com/start"
REPLY = "Hello from the Bedrock stand-in, by way of cred-export."
# Both hooks once: what a start with no AWS_PROFILE in Claude Code's environment runs.
REFRESH_AND_EXPORT = Counter({"awsAuthRefresh": 1, "awsCredentialExport": 1})
TURN = {"ListInferenceProfiles", "InvokeModel", "InvokeModelWithResponseStream"}


@pytest.fixture(scope="session")
def claude_cli() -> Path:
    """The pinned Claude Code CLI, installed with `npm ci` if it is not there yet."""
    missing = [] if claude_code.installed() or claude_code.can_install() else ["npm (to install Claude Code)"]
    missing += [] if shutil.which("strace") else ["strace (to watch Claude Code's connections)"]
    require(not missing, f"the Claude Code tests need {' and '.join(missing)}")
    return claude_code.ensure_installed()


@pytest.fixture(scope="module")
def _bedrock(_proxy, _sso_server, _signin_server) -> Iterator[BedrockServer]:  # type: ignore[no-untyped-def]
    server = BedrockServer(credentials=issued_by(_proxy, _sso_server, _signin_server))
    yield server
    server.close()


@pytest.fixture
def bedrock(_bedrock: BedrockServer) -> BedrockServer:
    """Bedrock on 127.0.0.1, checking every caller against what was really issued; reset per test."""
    _bedrock.reset()
    _bedrock.reply_text = REPLY
    return _bedrock


def forget_requests(bedrock: BedrockServer) -> None:
    """Between two starts: the stand-in's log emptied, its answer kept."""
    bedrock.reset()
    bedrock.reply_text = REPLY


def claude_in(box: Sandbox, bedrock: BedrockServer, cli: Path) -> ClaudeCode:
    return ClaudeCode(box, bedrock.url, cli)


def assert_answered(start: Start, bedrock: BedrockServer, key_id: str, scheme: str = "sigv4") -> None:
    """Claude Code printed the stand-in's answer; every request came from `key_id`; all on loopback."""
    assert start.code == 0, (start.stdout + start.stderr)[-2000:]
    assert REPLY in start.stdout
    assert not bedrock.refusals
    # The turn streams; the availability probes (InvokeModel) come on a first start only.
    assert "InvokeModelWithResponseStream" in {r.operation for r in bedrock.requests} <= TURN
    assert {(r.key_id, r.scheme) for r in bedrock.requests} == {(key_id, scheme)}
    assert not start.off_loopback, start.off_loopback


def browser_env(box: Sandbox) -> dict[str, str]:
    log = box.root / "browser.log"
    return {"BROWSER": f"{sys.executable} {BROWSER_SCRIPT} %s", "BROWSER_LOG": str(log)}


def browser_visits(box: Sandbox) -> list[str]:
    log = box.root / "browser.log"
    return log.read_text().splitlines() if log.exists() else []


# --------------------------------------------------------------------------- assume-role chain


def test_an_assume_role_chain_answers_every_start(sandbox, sts, bedrock, claude_cli):
    profile = sandbox.role_chain(depth=2)
    claude = claude_in(sandbox, bedrock, claude_cli)
    claude.wire(profile)

    first = claude.start()
    issued = list(sts.issued)[-1]  # role2's keys, from the last AssumeRole
    assert_answered(first, bedrock, issued)
    assert first.hooks == REFRESH_AND_EXPORT
    assert sts.calls == {"AssumeRole": 2}

    forget_requests(bedrock)
    second = claude.start()
    assert_answered(second, bedrock, issued)
    assert second.hooks == REFRESH_AND_EXPORT
    assert sts.calls == {"AssumeRole": 2}  # both hooks answered from the cache


def test_with_an_aws_profile_its_sdk_resolves_only_the_export_runs(sandbox, sts, bedrock, claude_cli):
    profile = sandbox.role_chain(depth=1)
    claude = claude_in(sandbox, bedrock, claude_cli)
    claude.wire(profile)
    start = claude.start(env={"AWS_PROFILE": profile})
    assert start.hooks == Counter({"awsCredentialExport": 1})
    # Its own SDK assumed the role too and checked the result; the export made its own.
    assert sts.calls == {"AssumeRole": 2, "GetCallerIdentity": 1}
    exported = sandbox.run("--profile", profile).credentials["AccessKeyId"]  # a cache hit: the same keys
    assert_answered(start, bedrock, exported)


# --------------------------------------------------------------------------- IAM Identity Center


def write_sso_profile(box: Sandbox) -> None:
    box.write_aws_config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )


def test_an_sso_profile_signs_in_through_the_refresh_hook_then_starts_without_sign_in(
    sso_sandbox, sso, sts, bedrock, claude_cli
):
    write_sso_profile(sso_sandbox)
    claude = claude_in(sso_sandbox, bedrock, claude_cli)
    claude.wire("dev")

    first = claude.start(env=browser_env(sso_sandbox))
    assert first.hooks == REFRESH_AND_EXPORT
    (visited,) = browser_visits(sso_sandbox)  # `login`, with no terminal, opened the browser once
    assert "code_challenge_method=S256" in visited
    assert [r.get("grantType") for r in sso.requests if r["op"] == "CreateToken"] == ["authorization_code"]
    (role,) = sso.issued
    assert_answered(first, bedrock, role.access_key_id)

    calls = sum(sso.calls.values())
    forget_requests(bedrock)
    second = claude.start(env=browser_env(sso_sandbox))
    assert second.hooks == REFRESH_AND_EXPORT
    assert len(browser_visits(sso_sandbox)) == 1  # no sign-in this time
    assert sum(sso.calls.values()) == calls  # not even a portal call: both hooks hit the cache
    assert_answered(second, bedrock, role.access_key_id)
    assert sts.calls == {}


# --------------------------------------------------------------------------- console sessions


def test_a_console_session_profile_answers(console_sandbox, signin, sts, bedrock, claude_cli):
    signin.new_session(
        console_sandbox.home / ".aws" / "login" / "cache",
        config_file=console_sandbox.home / ".aws" / "config",
        profile="dev",
    )
    claude = claude_in(console_sandbox, bedrock, claude_cli)
    claude.wire("dev")
    start = claude.start(env=browser_env(console_sandbox))
    assert start.hooks == REFRESH_AND_EXPORT
    (session,) = signin.issued  # the credentials `aws login` left, used as they are
    assert session.arn == DEFAULT_IDENTITY
    assert_answered(start, bedrock, session.access_key_id)
    assert browser_visits(console_sandbox) == [] and signin.grants == {}
    assert sts.calls == {}


def test_a_console_profile_signs_in_through_the_refresh_hook_then_starts_without_sign_in(
    console_sandbox, signin, sts, bedrock, claude_cli
):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\nregion = us-east-1\n")
    claude = claude_in(console_sandbox, bedrock, claude_cli)
    claude.wire("dev")

    first = claude.start(env=browser_env(console_sandbox))
    assert first.hooks == REFRESH_AND_EXPORT
    (visited,) = browser_visits(console_sandbox)
    assert "/v1/authorize?" in visited
    assert signin.grants == {"authorization_code": 1} and signin.dpop_violations == {}
    (session,) = signin.issued
    assert_answered(first, bedrock, session.access_key_id)

    forget_requests(bedrock)
    second = claude.start(env=browser_env(console_sandbox))
    assert second.hooks == REFRESH_AND_EXPORT
    assert len(browser_visits(console_sandbox)) == 1 and signin.grants == {"authorization_code": 1}
    assert_answered(second, bedrock, session.access_key_id)
    assert sts.calls == {}


# --------------------------------------------------------------------------- Option E


def test_a_bedrock_api_key_from_bedrock_token_answers_without_the_export(sandbox, sts, bedrock, claude_cli):
    profile = sandbox.role_chain(depth=1)
    key = sandbox.run("bedrock-token", "--profile", profile, "--region", claude_code.REGION)
    assert key.code == 0, key.stderr
    claude = claude_in(sandbox, bedrock, claude_cli)
    claude.wire(profile)  # hooks configured too, as for a user who switched to a key
    start = claude.start(env={"AWS_BEARER_TOKEN_BEDROCK": key.stdout.strip()})
    # Every request carries the key. Claude Code still starts the refresh hook in the background
    # at start, and the export after it if the refresh ends before the turn does: nothing waits
    # for either, and their credentials go unused.
    assert start.hooks["awsAuthRefresh"] == 1 and start.hooks["awsCredentialExport"] <= 1
    (role_key,) = sts.issued
    assert_answered(start, bedrock, role_key, scheme="api-key")


# --------------------------------------------------------------------------- the control


def test_a_wrong_secret_is_refused(sandbox, sts, bedrock, claude_cli):
    """The stand-in can fail: an export whose secret is not the one STS issued gets 403s."""
    profile = sandbox.role_chain(depth=1)
    claude = claude_in(sandbox, bedrock, claude_cli)
    settings = claude.wire(profile)
    spoil = shlex.quote(sys.executable) + " -c " + shlex.quote(SPOIL_SECRET)
    claude.count_hooks({**settings, "awsCredentialExport": f"{settings['awsCredentialExport']} | {spoil}"})

    start = claude.start(timeout=90)
    assert start.code != 0
    assert "403" in start.stdout and REPLY not in start.stdout
    assert bedrock.requests == []  # nothing got through
    (role_key,) = sts.issued
    assert bedrock.refusals and {(r.error_type, r.key_id) for r in bedrock.refusals} == {
        ("InvalidSignatureException", role_key)
    }
    # A 403 drops the credentials: before each attempt at the turn the export runs again (with
    # CLAUDE_CODE_MAX_RETRIES=1, four attempts); the refresh hook runs once, at start.
    streams = sum(r.operation == "InvokeModelWithResponseStream" for r in bedrock.refusals)
    assert streams >= 2
    assert start.hooks == Counter({"awsAuthRefresh": 1, "awsCredentialExport": streams})
    assert not start.off_loopback


# The export's JSON with its secret reversed: the right key id and token, a wrong secret.
SPOIL_SECRET = (
    "import json, sys\n"
    "document = json.load(sys.stdin)\n"
    "credentials = document['Credentials']\n"
    "credentials['SecretAccessKey'] = credentials['SecretAccessKey'][::-1]\n"
    "print(json.dumps(document))\n"
)


def test_the_connection_watch_reads_every_address_and_flags_what_leaves_loopback(tmp_path):
    trace = tmp_path / "strace.log"
    trace.write_text(
        '101 connect(4, {sa_family=AF_INET, sin_port=htons(35235), sin_addr=inet_addr("127.0.0.1")}, 16)'
        " = -1 EINPROGRESS (Operation now in progress)\n"
        "102 connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),"
        ' inet_pton(AF_INET6, "2600:1f18::1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
        '103 sendto(6, "\\x12", 30, 0, {sa_family=AF_INET, sin_port=htons(53),'
        ' sin_addr=inet_addr("127.0.0.53")}, 16) = 30\n'
        '104 connect(7, {sa_family=AF_UNIX, sun_path="/run/dbus"}, 110) = 0\n'
        "105 connect(8, {sa_family=AF_INET, sin_port=htons(443),"
        ' sin_addr=inet_addr("160.79.104.10")}, 16) = 0\n'
    )
    found = claude_code.destinations(trace)
    assert found == {("127.0.0.1", 35235), ("2600:1f18::1", 443), ("127.0.0.53", 53), ("160.79.104.10", 443)}
    start = Start(0, "", "", Counter(), found)
    assert start.off_loopback == {("2600:1f18::1", 443), ("127.0.0.53", 53), ("160.79.104.10", 443)}
