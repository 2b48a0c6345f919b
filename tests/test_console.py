"""Console sessions (`aws login`) end to end, against the AWS Sign-In stand-in and moto's STS.

The stand-in (tests/harness/signin_server.py) enforces the service's rules: PKCE, single-use
codes, rotating refresh tokens bound to the session's DPoP key, and a valid DPoP proof on every
token call. botocore itself reads what cred-export wrote and the other way round.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from harness.sandbox import EXECUTABLE, Sandbox
from harness.signin_server import DEFAULT_IDENTITY, cache_path

ARN = DEFAULT_IDENTITY
BROWSER_SCRIPT = Path(__file__).parent / "harness" / "browser.py"
ROLE_ARN = "arn:aws:iam::123456789012:role/bedrock"


def login_cache(box: Sandbox) -> Path:
    return box.home / ".aws" / "login" / "cache"


def start_session(box: Sandbox, signin, *, profile: str = "dev", **kwargs) -> Path:  # type: ignore[no-untyped-def]
    """A signed-in session as `aws login` leaves it: the cache file and `login_session` in the profile."""
    return signin.new_session(
        login_cache(box), config_file=box.home / ".aws" / "config", profile=profile, **kwargs
    )


def session_file(path: Path) -> dict:
    return json.loads(path.read_text())


def browser_env(tmp_path: Path) -> dict[str, str]:
    return {"BROWSER": f"{sys.executable} {BROWSER_SCRIPT} %s", "BROWSER_LOG": str(tmp_path / "browser.log")}


def refreshes(signin) -> int:  # type: ignore[no-untyped-def]
    return signin.grants["refresh_token"]


def test_a_console_session_is_exported_and_cached(console_sandbox, signin, sts):
    path = start_session(console_sandbox, signin)
    result = console_sandbox.run("--profile", "dev")
    assert result.code == 0, result.stderr
    access = session_file(path)["accessToken"]
    assert result.credentials["AccessKeyId"] == access["accessKeyId"]
    assert result.credentials["Expiration"] == access["expiresAt"]
    assert refreshes(signin) == 0 and sts.calls == {}  # fresh credentials: no call at all
    assert console_sandbox.run("--profile", "dev").credentials == result.credentials


def test_expired_credentials_are_renewed_and_written_back_as_the_aws_cli_writes_them(console_sandbox, signin):
    path = start_session(console_sandbox, signin, access_ttl=0)
    before = session_file(path)
    result = console_sandbox.run("--profile", "dev")
    assert result.code == 0, result.stderr
    assert refreshes(signin) == 1 and signin.dpop_violations == {}
    text = path.read_text()
    after = json.loads(text)
    assert text == json.dumps(after) and not text.endswith("\n")  # one line, json.dumps' defaults
    assert list(after) == list(before) and list(after["accessToken"]) == list(before["accessToken"])
    assert after["refreshToken"] == signin.current_refresh_token(ARN) != before["refreshToken"]
    for kept in ("tokenType", "clientId", "idToken", "dpopKey"):
        assert after[kept] == before[kept]
    assert after["accessToken"]["accessKeyId"] == result.credentials["AccessKeyId"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", after["accessToken"]["expiresAt"])


def test_fifteen_minute_credentials_are_hits_for_the_first_half_of_their_life(console_sandbox, signin):
    start_session(console_sandbox, signin, access_ttl=0)
    results = [console_sandbox.run("--profile", "dev") for _ in range(10)]
    assert {r.code for r in results} == {0}
    assert len({r.stdout for r in results}) == 1
    assert refreshes(signin) == 1


def test_a_crowd_of_exports_with_no_cache_renews_once(console_sandbox, signin):
    console_sandbox.write_settings('cache = "none"\n')
    start_session(console_sandbox, signin, access_ttl=0)
    signin.delay = 0.5  # every caller arrives while the first renewal is in flight
    crowd = [console_sandbox.popen("--profile", "dev") for _ in range(16)]
    outcomes = [(process.communicate(timeout=120), process.returncode) for process in crowd]
    assert [code for _, code in outcomes] == [0] * 16, outcomes[0][0][1]
    assert len({out for (out, _), _ in outcomes}) == 1
    assert refreshes(signin) == 1 and signin.dpop_violations == {}
    assert signin.refusals == {}


def test_a_console_session_is_the_source_of_a_role_chain(console_sandbox, signin, sts):
    start_session(console_sandbox, signin)
    config = console_sandbox.home / ".aws" / "config"
    config.write_text(
        config.read_text() + f"\n[profile bedrock]\nrole_arn = {ROLE_ARN}\nsource_profile = dev\n"
    )
    result = console_sandbox.run("--profile", "bedrock")
    assert result.code == 0, result.stderr
    assert sts.calls["AssumeRole"] == 1
    session_key = session_file(cache_path(login_cache(console_sandbox), ARN))["accessToken"]["accessKeyId"]
    assert result.credentials["AccessKeyId"] != session_key  # the role's, signed with the session's


def test_botocore_reads_and_renews_what_cred_export_wrote(console_sandbox, signin, tmp_path):
    path = start_session(console_sandbox, signin, access_ttl=0)
    assert console_sandbox.run("--profile", "dev").code == 0  # cred-export renewed it
    ours = session_file(path)
    renewed = _botocore_credentials(console_sandbox, "dev", force_refresh=True)
    assert renewed["access_key"] != ours["accessToken"]["accessKeyId"]
    theirs = session_file(path)
    assert theirs["refreshToken"] != ours["refreshToken"]
    assert theirs["refreshToken"] == signin.current_refresh_token(ARN)
    assert signin.dpop_violations == {} and refreshes(signin) == 2


def test_cred_export_renews_what_botocore_rotated(console_sandbox, signin):
    path = start_session(console_sandbox, signin, access_ttl=0)
    _botocore_credentials(console_sandbox, "dev", force_refresh=True)
    rotated = session_file(path)
    assert refreshes(signin) == 1
    _expire_in_file(path, seconds=60)
    result = console_sandbox.run("--profile", "dev")
    assert result.code == 0, result.stderr
    assert refreshes(signin) == 2 and signin.dpop_violations == {}
    assert session_file(path)["refreshToken"] != rotated["refreshToken"]
    assert session_file(path)["refreshToken"] == signin.current_refresh_token(ARN)


def test_a_session_another_tool_renewed_meanwhile_is_used_not_refused(console_sandbox, signin):
    """cred-export read the file; before its renewal reached the service, another tool (the AWS
    CLI) renewed and rewrote the file, spending the refresh token cred-export presents."""
    path = start_session(console_sandbox, signin, access_ttl=0)
    stale = path.read_text()
    _botocore_credentials(console_sandbox, "dev", force_refresh=True)  # spends the old token
    renewed_elsewhere = path.read_text()
    path.write_text(stale)  # what cred-export will read first

    def the_other_tool_writes_while_our_call_is_in_flight() -> None:
        deadline = time.monotonic() + 30
        while signin.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        path.write_text(renewed_elsewhere)

    signin.delay = 1.0
    writer = threading.Thread(target=the_other_tool_writes_while_our_call_is_in_flight)
    writer.start()
    result = console_sandbox.run("--profile", "dev")
    writer.join(timeout=30)
    assert result.code == 0, result.stderr
    assert signin.refusals["refresh-token-spent"] == 1  # cred-export's attempt with the stale token
    assert result.credentials["AccessKeyId"] == json.loads(renewed_elsewhere)["accessToken"]["accessKeyId"]


@pytest.mark.parametrize(
    "fault, code, needle",
    [
        ("TOKEN_EXPIRED", 3, "the console session has expired"),
        ("USER_CREDENTIALS_CHANGED", 3, "credentials changed"),
        ("INSUFFICIENT_PERMISSIONS", 4, "INSUFFICIENT_PERMISSIONS"),
        (500, 4, "AWS Sign-In CreateOAuth2Token"),
    ],
)
def test_refused_renewals_are_one_line_with_the_right_exit_code(console_sandbox, signin, fault, code, needle):
    start_session(console_sandbox, signin, access_ttl=0)
    signin.fail_next_refreshes(5, fault)
    result = console_sandbox.run("--profile", "dev", timeout=90)
    assert result.code == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr
    if code == 3:
        assert "run cred-export login --profile dev" in lines[0] and "aws login" in lines[0]


def test_a_spent_refresh_token_means_sign_in(console_sandbox, signin):
    path = start_session(console_sandbox, signin, access_ttl=0)
    spent = path.read_text()
    assert console_sandbox.run("--profile", "dev").code == 0  # rotates it
    path.write_text(spent)  # an old copy of the file comes back (a restored backup, another tool)
    console_sandbox.run("clear", "--profile", "dev")
    result = console_sandbox.run("--profile", "dev")
    assert result.code == 3 and "sign-in required for profile dev" in result.stderr


@pytest.mark.parametrize("content", [None, "", "{not json", '{"accessToken": {}}', '["a"]'])
def test_a_missing_or_corrupt_session_file_means_sign_in(console_sandbox, signin, content):
    path = start_session(console_sandbox, signin)
    if content is None:
        path.unlink()
    else:
        path.write_text(content)
    result = console_sandbox.run("--profile", "dev")
    assert result.code == 3 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "cred-export login --profile dev" in result.stderr


def test_a_skewed_clock_is_named(console_sandbox, signin):
    start_session(console_sandbox, signin, access_ttl=0)
    signin.clock_offset = 600  # the service is 10 minutes ahead: every proof looks stale to it
    result = console_sandbox.run("--profile", "dev")
    assert result.code == 4
    assert re.search(r"clock is (599|600|601) s behind AWS's; check the system clock", result.stderr)


def test_status_and_clear_know_console_sessions(console_sandbox, signin):
    path = start_session(console_sandbox, signin)
    status = console_sandbox.run("status", "--profile", "dev", "--json")
    assert status.code == 0, status.stderr
    (entry,) = status.json["profiles"]
    assert entry["source"] == "console" and entry["session"]["kind"] == "console"
    assert entry["session"]["renewable"] is True and entry["session"]["renewable_until"]
    assert entry["session"]["session_file"] == str(path) and entry["sign_in_needed"] is False
    assert console_sandbox.run("clear", "--profile", "dev").code == 0
    assert path.exists()  # shared with the AWS CLI: only with --session-files
    assert console_sandbox.run("clear", "--profile", "dev", "--session-files").code == 0
    assert not path.exists()
    after = console_sandbox.run("status", "--profile", "dev", "--json").json["profiles"][0]
    assert after["sign_in_needed"] is True and after["sign_in_command"] == "cred-export login --profile dev"


def test_doctor_names_the_sign_in_for_a_console_profile(console_sandbox, signin):
    path = start_session(console_sandbox, signin)
    path.unlink()
    report = console_sandbox.run("doctor", "--profile", "dev", "--json")
    checks = {check["id"]: check for check in report.json["checks"]}
    assert checks["profile"]["verdict"] == "ok" and "console session" in checks["profile"]["detail"]
    assert checks["credentials"]["verdict"] == "fail"
    assert checks["credentials"]["fix"] == "run cred-export login --profile dev"


# --- signing in ---------------------------------------------------------------------------------


def test_login_signs_in_in_the_browser_and_sets_login_session(console_sandbox, signin, tmp_path):
    config = console_sandbox.home / ".aws" / "config"
    original = "# mine\n[profile dev]\nlogin_session =\nregion = us-east-1\n\n[profile other]\nregion = x\n"
    config.write_text(original)
    result = console_sandbox.run("login", "--profile", "dev", env=browser_env(tmp_path), timeout=90)
    assert result.code == 0, result.stderr
    assert "Signed in" in result.stdout and "/v1/authorize?" in result.stdout
    assert signin.grants["authorization_code"] == 1 and signin.dpop_violations == {}
    assert config.read_text() == original.replace("login_session =\n", f"login_session = {ARN}\n")
    document = session_file(cache_path(login_cache(console_sandbox), ARN))
    assert set(document) == {"accessToken", "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"}
    assert document["clientId"] == "arn:aws:signin:::devtools/same-device"
    url = (tmp_path / "browser.log").read_text().split()[0]
    assert "code_challenge_method=SHA-256" in url and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
    export = console_sandbox.run("--profile", "dev")
    assert export.code == 0 and refreshes(signin) == 0  # the next export is a hit


def test_botocore_uses_the_session_cred_export_signed_in(console_sandbox, signin, tmp_path):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    assert console_sandbox.run("login", "--profile", "dev", env=browser_env(tmp_path), timeout=90).code == 0
    renewed = _botocore_credentials(console_sandbox, "dev", force_refresh=True)
    assert renewed["access_key"].startswith(("ASIA", "AKIA"))
    assert signin.dpop_violations == {}


def test_login_refused_in_the_browser_is_exit_3(console_sandbox, signin, tmp_path):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    signin.deny_next_authorization()
    result = console_sandbox.run("login", "--profile", "dev", env=browser_env(tmp_path), timeout=90)
    assert result.code == 3 and "refused" in result.stderr


def test_export_signs_in_itself_on_a_desktop_for_a_profile_not_signed_in_yet(
    console_sandbox, signin, tmp_path
):
    console_sandbox.write_settings('cache = "file"\nlogin_from_export = "auto"\n')
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    result = console_sandbox.run("--profile", "dev", env=browser_env(tmp_path), timeout=90)
    assert result.code == 0, result.stderr
    assert result.credentials["AccessKeyId"] == signin.issued[-1].access_key_id
    assert f"login_session = {ARN}" in (console_sandbox.home / ".aws" / "config").read_text()


def test_remote_login_under_a_hook_that_still_has_a_terminal_is_refused(console_sandbox, signin):
    """Claude Code's hooks may keep its controlling terminal; stdin is a pipe, and that decides."""
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    pid, master = pty.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # /dev/tty is the pty, but stdin is not a terminal: a hook
        os.execve(EXECUTABLE, [EXECUTABLE, "login", "--profile", "dev", "--remote"], console_sandbox.env)
    try:
        output = _read_until(master, b"needs a terminal", timeout=30)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(master)
    assert os.waitstatus_to_exitcode(status) == 3, output.decode(errors="replace")
    assert b"Enter the authorization code" not in output and signin.calls["Authorize"] == 0


def test_remote_login_without_a_terminal_is_refused_at_once(console_sandbox, signin):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    started = time.monotonic()
    result = console_sandbox.run("login", "--profile", "dev", "--remote", timeout=60)
    assert result.code == 3 and "needs a terminal" in result.stderr
    assert time.monotonic() - started < 20 and signin.calls["Authorize"] == 0


def test_remote_login_takes_the_pasted_code_at_the_terminal(console_sandbox, signin):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    pid, master = pty.fork()
    if pid == 0:  # the child: cred-export with this pty as its controlling terminal
        os.execve(EXECUTABLE, [EXECUTABLE, "login", "--profile", "dev", "--remote"], console_sandbox.env)
    try:
        output = _read_until(master, b"Enter the authorization code", timeout=30)
        url = re.search(rb"(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)", output).group(1).decode()  # type: ignore[union-attr]
        page = urllib.request.urlopen(url, timeout=10).read().decode()  # the user signs in elsewhere
        code = re.search(r'id="verification-code">([^<]+)<', page).group(1)  # type: ignore[union-attr]
        os.write(master, code.encode() + b"\n")
        output += _read_until(master, b"Signed in", timeout=30)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(master)
    assert os.waitstatus_to_exitcode(status) == 0, output.decode(errors="replace")
    assert signin.grants["authorization_code"] == 1 and signin.dpop_violations == {}
    assert session_file(cache_path(login_cache(console_sandbox), ARN))["clientId"].endswith("cross-device")


# --- helpers --------------------------------------------------------------------------------------


def _expire_in_file(path: Path, seconds: int) -> None:
    document = session_file(path)
    document["accessToken"]["expiresAt"] = time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds)
    )
    path.write_text(json.dumps(document))


def _botocore_credentials(box: Sandbox, profile: str, *, force_refresh: bool) -> dict:
    """What botocore's own login provider (with awscrt) makes of the profile, in a clean process.

    With `force_refresh`, the session's credentials are first made to expire in a minute, so
    botocore must renew them (it renews within 5 minutes of expiry)."""
    if force_refresh:
        (path,) = login_cache(box).glob("*.json")
        _expire_in_file(path, seconds=60)
    code = (
        "import json, sys, botocore.session\n"
        "creds = botocore.session.Session(profile=sys.argv[1]).get_credentials()\n"
        "frozen = creds.get_frozen_credentials()\n"
        "print(json.dumps({'access_key': frozen.access_key, 'method': creds.method}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, profile],
        env={**box.env, "AWS_DEFAULT_REGION": "us-east-1"},
        cwd=box.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    assert result["method"] == "login"
    return result


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    seen = b""
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert needle in seen, seen.decode(errors="replace")
    return seen


def test_renewal_goes_to_the_sessions_sign_in_region_else_botocores(monkeypatch, tmp_path):
    """In process: which region the signin client is made for (the endpoint override hides it)."""
    from cred_export.console import cache, service
    from cred_export.console import session as console

    asked: list[str | None] = []

    def client(profile: str, region: str | None) -> object:
        asked.append(region)
        raise service.UpstreamError("stop here")

    monkeypatch.setattr(service, "client", client)
    for region in ("eu-west-1", None):
        current = cache.ConsoleSession("A", "s", "t", "1", time.time(), "c", "r", "k", sign_in_region=region)
        with pytest.raises(service.UpstreamError):
            console._SessionFile("dev", ARN)._refresh(current)
    assert asked == ["eu-west-1", None]  # None: botocore's own choice, the profile's region
