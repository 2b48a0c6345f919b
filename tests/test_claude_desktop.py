"""Claude Desktop on Bedrock: cred-export as its `inferenceCredentialHelper`, `setup claude-desktop`
and the managed documents, against the STS, SSO, Sign-In and OpenID Provider stand-ins."""

from __future__ import annotations

import base64
import calendar
import json
import plistlib
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from harness import reg_file
from harness.aws_signature import issued_by
from harness.bedrock_server import BedrockServer
from harness.sandbox import EXECUTABLE, Sandbox, remember_secret
from test_console import start_session
from test_doctor import point_at_stand_ins
from test_sso import seed_token, write_sso_config

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

BROWSER_SCRIPT = Path(__file__).parent / "harness" / "browser.py"
CONTEXTS = ("interactive", "mid-session-refresh", "scheduled-task", "setup-test", "background")
SILENT = CONTEXTS[1:]
WINDOWS_HELPER = r"C:\Program Files\cred-export\cred-export.exe"


@pytest.fixture(scope="module")
def bedrock() -> Iterator[BedrockServer]:
    """Bedrock's control plane on 127.0.0.1, for doctor's other checks."""
    server = BedrockServer()
    yield server
    server.close()


# --- helpers ------------------------------------------------------------------------------------


def token_query(token: str) -> dict[str, str]:
    """The presigned request inside a Bedrock API key: `bedrock-api-key-` + base64 of a URL."""
    assert token.startswith("bedrock-api-key-") and token == token.strip()
    url = base64.b64decode(token.removeprefix("bedrock-api-key-"), validate=True).decode()
    parts = urlsplit("https://" + url)
    assert parts.netloc == "bedrock.amazonaws.com"
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query["Action"] == "CallWithBearerToken" and query["Version"] == "1"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Signature"]
    return query


def check_token(token: str, region: str, at_least: float) -> dict[str, str]:
    """A well-formed key for `region` with at least `at_least` seconds left, never over 12 h."""
    query = token_query(token)
    _key_id, _day, scope_region, service, terminator = query["X-Amz-Credential"].split("/")
    assert (scope_region, service, terminator) == (region, "bedrock", "aws4_request")
    lifetime = int(query["X-Amz-Expires"])
    assert 0 < lifetime <= 12 * 3600
    signed = calendar.timegm(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    assert signed + lifetime - time.time() >= at_least
    return query


def helper(box: Sandbox, context: str, env: dict[str, str] | None = None, timeout: float = 60):  # type: ignore[no-untyped-def]
    """cred-export run as Claude Desktop runs its helper: no arguments, the context variable set."""
    extra = {"CLAUDE_HELPER_CONTEXT": context, **(env or {})}
    if context == "setup-test":
        extra["CLAUDE_HELPER_MANUAL_RUN"] = "1"
    result = box.run(env=extra, timeout=timeout)
    if result.code == 0:
        remember_secret(result.stdout)  # a bearer token: never on stderr or in a loose file
    return result


def set_up(box: Sandbox, profile: str, *args: str, region: str = "eu-west-1") -> None:
    result = box.run("setup", "claude-desktop", "--profile", profile, "--region", region, *args)
    assert result.code == 0, result.stderr
    assert result.stdout == ""


def settings_table(box: Sandbox) -> dict:
    path = box.home / ".config" / "cred-export" / "config.toml"
    return tomllib.loads(path.read_text())["claude_desktop"]


def recording_browser(tmp_path: Path, *, does_nothing: bool = False) -> dict[str, str]:
    env = {"BROWSER": f"{sys.executable} {BROWSER_SCRIPT} %s", "BROWSER_LOG": str(tmp_path / "browser.log")}
    if does_nothing:
        env["BROWSER_DOES_NOTHING"] = "1"
    return env


def opened(tmp_path: Path) -> list[str]:
    log = tmp_path / "browser.log"
    return log.read_text().splitlines() if log.exists() else []


def managed(box: Sandbox, fmt: str, *args: str) -> bytes:
    completed = subprocess.run(
        [EXECUTABLE, "setup", "claude-desktop", "--managed", "--format", fmt, *args],
        env=box.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


# --- the helper contract: a role chain ----------------------------------------------------------


@pytest.mark.parametrize("context", CONTEXTS)
def test_every_context_prints_one_bare_token_for_the_configured_region(sandbox, sts, context):
    profile = sandbox.role_chain(depth=1)
    set_up(sandbox, profile)
    assert settings_table(sandbox) == {
        "profile": profile,
        "region": "eu-west-1",
        "ttl_seconds": 1200,  # a third of a 1-hour role
        "timeout_seconds": 300,
    }
    result = helper(sandbox, context)
    assert result.code == 0, result.stderr
    assert result.stderr == "" and "\n" not in result.stdout  # the bare token, no line end
    query = check_token(result.stdout, "eu-west-1", 1200 + 60)
    export = sandbox.run("--profile", profile).credentials
    assert query["X-Amz-Credential"].startswith(export["AccessKeyId"] + "/")
    assert sts.calls["AssumeRole"] == 1


@pytest.fixture
def verifying_bedrock(_proxy) -> Iterator[BedrockServer]:  # type: ignore[no-untyped-def]
    """The Bedrock stand-in that checks every API key against the secret STS really issued."""
    server = BedrockServer(credentials=issued_by(_proxy))
    yield server
    server.close()


def test_the_helpers_token_is_accepted_by_bedrock(sandbox, sts, verifying_bedrock):
    profile = sandbox.role_chain(depth=1)
    set_up(sandbox, profile)
    token = helper(sandbox, "background").stdout
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()  # fmt: skip
    request = urllib.request.Request(
        f"{verifying_bedrock.url}/model/global.anthropic.claude-sonnet-4-6/invoke",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
    ((key_id, region, scheme),) = [(r.key_id, r.region, r.scheme) for r in verifying_bedrock.requests]
    assert (region, scheme) == ("eu-west-1", "api-key")
    assert key_id == sandbox.run("--profile", profile).credentials["AccessKeyId"]
    spoiled = urllib.request.Request(
        request.full_url, data=body, headers={"Authorization": f"Bearer {token[:-4]}AAAA"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(spoiled, timeout=30)
    assert refused.value.code == 403


def test_the_token_is_cached_and_the_export_shares_the_credentials(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    set_up(sandbox, profile)
    first = helper(sandbox, "background").stdout
    assert helper(sandbox, "mid-session-refresh").stdout == first
    assert sandbox.run("--profile", profile).code == 0
    assert sts.calls["AssumeRole"] == 1


def test_credentials_that_would_die_within_the_ttl_are_renewed_first(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    set_up(sandbox, profile)
    before = helper(sandbox, "background").stdout
    sandbox.set_cached_expiry(1200)  # still fresh for export (15-min window), not for a 20-min TTL
    export = sandbox.run("--profile", profile)
    assert sts.calls["AssumeRole"] == 1 and export.code == 0  # export: a hit
    after = helper(sandbox, "scheduled-task")
    assert after.code == 0, after.stderr
    assert sts.calls["AssumeRole"] == 2 and after.stdout != before
    check_token(after.stdout, "eu-west-1", 1260)
    renewed = sandbox.run("--profile", profile).credentials  # the renewal is everyone's
    assert token_query(after.stdout)["X-Amz-Credential"].startswith(renewed["AccessKeyId"] + "/")


def test_credentials_with_enough_life_are_not_renewed(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    set_up(sandbox, profile)
    helper(sandbox, "background")
    sandbox.set_cached_expiry(2000)
    result = helper(sandbox, "background")
    assert result.code == 0 and sts.calls["AssumeRole"] == 1
    check_token(result.stdout, "eu-west-1", 1260)


def test_credentials_too_short_for_the_ttl_are_refused_with_the_fix(sandbox, sts):
    profile = sandbox.role_chain(depth=1, duration_seconds="900")
    set_up(sandbox, profile, "--ttl", "1200")  # warned: longer than 15-minute credentials allow
    result = helper(sandbox, "background")
    assert result.code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "--ttl" in result.stderr


def test_a_role_duration_sets_the_ttl(sandbox, sts):
    sts.max_session_duration = 43200
    profile = sandbox.role_chain(depth=1, duration_seconds="7200")
    set_up(sandbox, profile)
    assert settings_table(sandbox)["ttl_seconds"] == 2400
    profile = sandbox.role_chain(depth=1, duration_seconds="43200")
    set_up(sandbox, profile)
    assert settings_table(sandbox)["ttl_seconds"] == 3600  # Claude Desktop's own ceiling
    result = helper(sandbox, "background")
    assert result.code == 0, result.stderr
    check_token(result.stdout, "eu-west-1", 3660)


def test_a_role_cut_to_an_hour_by_sts_is_named_with_the_fix(sandbox, sts):
    profile = sandbox.role_chain(depth=1, duration_seconds="43200")  # the role allows only 1 h
    set_up(sandbox, profile)
    result = helper(sandbox, "background")
    assert result.code == 2 and result.stdout == ""
    assert "less than the 3600 s Claude Desktop keeps it" in result.stderr and "--ttl" in result.stderr


def test_not_set_up_is_exit_2_naming_the_setup_command(sandbox, sts):
    sandbox.role_chain(depth=1)
    result = helper(sandbox, "background")
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "cred-export: Claude Desktop's helper is not set up:"
        " run cred-export setup claude-desktop --profile P --region R"
    ]


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('profile = "role1"\nregion = "eu-west-1"\n', "lacks ttl_seconds"),
        ('profile = "role1"\nregion = "moon-1"\nttl_seconds = 600\n', "not an AWS region"),
        ('profile = "role1"\nregion = "eu-west-1"\nttl_seconds = 5\n', "ttl_seconds must be"),
        ('profile = "role1"\nregion = "eu-west-1"\nttl_seconds = "600"\n', "wrong type"),
        ('profile = "role1"\nregion = "eu-west-1"\nttl_seconds = 600\ncolour = 1\n', "unknown setting"),
        ('profile = "role1"\nregion = "eu-west-1"\nttl_seconds = 600\ntimeout_seconds = 900\n', "timeout"),
        ('profile = "a\\u0007b"\nregion = "eu-west-1"\nttl_seconds = 600\n', "not a profile name"),
        ('profile = ""\nregion = "eu-west-1"\nttl_seconds = 600\n', "not a profile name"),
    ],
)
def test_a_bad_claude_desktop_table_is_exit_2(sandbox, sts, table, needle):
    sandbox.role_chain(depth=1)
    sandbox.write_settings(f'cache = "file"\n[claude_desktop]\n{table}')
    result = helper(sandbox, "background")
    assert result.code == 2 and result.stdout == "" and needle in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_claude_desktop_must_be_a_table(sandbox, sts):
    sandbox.write_settings('cache = "file"\nclaude_desktop = "role1"\n')
    result = helper(sandbox, "background")
    assert result.code == 2 and "must be a table" in result.stderr


def test_arguments_mean_a_plain_export_even_with_the_context_set(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("--profile", profile, env={"CLAUDE_HELPER_CONTEXT": "background"})
    assert result.code == 0 and result.credentials["AccessKeyId"]


def test_an_upstream_failure_is_exit_4_in_one_line(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    set_up(sandbox, profile)
    sts.fault = "503"
    result = helper(sandbox, "background", timeout=90)
    assert result.code == 4 and result.stdout == "" and len(result.stderr.splitlines()) == 1


# --- laptop images: the machine-wide settings ---------------------------------------------------


def test_a_laptop_image_serves_the_machine_wide_choice(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    table = managed(sandbox, "toml", "--profile", profile, "--region", "ap-south-1").decode()
    assert tomllib.loads(table) == {
        "claude_desktop": {
            "profile": profile,
            "region": "ap-south-1",
            "ttl_seconds": 1200,
            "timeout_seconds": 300,
        }
    }
    (sandbox.root / "system-config.toml").write_text(table)  # IT's file; the user has only cache = "file"
    result = helper(sandbox, "background")
    assert result.code == 0, result.stderr
    check_token(result.stdout, "ap-south-1", 1260)
    sandbox.write_settings('cache = "file"\n[claude_desktop]\nregion = "us-west-2"\n')  # key by key
    check_token(helper(sandbox, "background").stdout, "us-west-2", 1260)


# --- IAM Identity Center ------------------------------------------------------------------------


@pytest.mark.parametrize("context", SILENT)
def test_sso_silent_contexts_never_open_a_browser(sso_sandbox, sso, sts, tmp_path, context):
    write_sso_config(sso_sandbox)
    set_up(sso_sandbox, "dev")
    started = time.monotonic()
    result = helper(sso_sandbox, context, env=recording_browser(tmp_path))
    assert time.monotonic() - started < 10  # the "within seconds"
    assert result.code == 3 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        "cred-export: sign-in required for profile dev: run cred-export login --profile dev"
    )
    assert opened(tmp_path) == [] and sso.calls["Authorize"] == 0


def test_sso_silent_context_renews_with_the_refresh_token(sso_sandbox, sso, sts, tmp_path):
    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso, access_ttl=60)  # access token all but expired, refresh token good
    set_up(sso_sandbox, "dev")
    result = helper(sso_sandbox, "mid-session-refresh", env=recording_browser(tmp_path))
    assert result.code == 0, result.stderr
    check_token(result.stdout, "eu-west-1", 1260)
    assert opened(tmp_path) == [] and sso.calls["CreateToken"] == 1


def test_sso_interactive_signs_in_in_the_browser_with_pkce(sso_sandbox, sso, sts, tmp_path):
    write_sso_config(sso_sandbox)
    set_up(sso_sandbox, "dev")
    result = helper(sso_sandbox, "interactive", env=recording_browser(tmp_path), timeout=90)
    assert result.code == 0, result.stderr
    check_token(result.stdout, "eu-west-1", 1260)
    (url,) = opened(tmp_path)
    assert "code_challenge_method=S256" in url and url in result.stderr  # shown only in the log
    assert sso.calls["Authorize"] == 1
    again = helper(sso_sandbox, "background", env=recording_browser(tmp_path))
    assert again.stdout == result.stdout and len(opened(tmp_path)) == 1


def test_credentials_too_short_for_the_ttl_and_no_session_mean_a_sign_in(sso_sandbox, sso, sts, tmp_path):
    from test_sso import token_path

    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso)
    set_up(sso_sandbox, "dev")
    assert helper(sso_sandbox, "background").code == 0
    token_path(sso_sandbox).unlink()  # the SSO session is gone
    sso_sandbox.set_cached_expiry(1000)  # fresh enough for the export, not for a 20-minute TTL
    assert sso_sandbox.run("--profile", "dev").code == 0
    silent = helper(sso_sandbox, "background", env=recording_browser(tmp_path))
    assert silent.code == 3 and opened(tmp_path) == []
    result = helper(sso_sandbox, "interactive", env=recording_browser(tmp_path), timeout=90)
    assert result.code == 0, result.stderr
    check_token(result.stdout, "eu-west-1", 1260)
    assert len(opened(tmp_path)) == 1


def test_interactive_gives_up_within_the_helpers_timeout(sso_sandbox, sso, sts, tmp_path):
    write_sso_config(sso_sandbox)
    set_up(sso_sandbox, "dev", "--timeout", "25")  # 5 s for the sign-in, 20 s kept for the token
    started = time.monotonic()
    result = helper(sso_sandbox, "interactive", env=recording_browser(tmp_path, does_nothing=True))
    assert time.monotonic() - started < 25
    assert result.code == 3 and result.stdout == "" and "not completed in time" in result.stderr
    assert len(opened(tmp_path)) == 1


def test_interactive_without_any_browser_fails_at_once(sso_sandbox, sso, sts):
    write_sso_config(sso_sandbox)
    set_up(sso_sandbox, "dev")
    result = helper(sso_sandbox, "interactive")  # no $BROWSER, no display
    assert result.code == 3 and "no browser can be opened" in result.stderr
    assert sso.calls["Authorize"] == 0 and sso.calls["StartDeviceAuthorization"] == 0


# --- console sessions (aws login, the Sign-In service) ------------------------------------------


def test_console_profiles_get_a_five_minute_ttl_and_a_token_that_outlives_it(console_sandbox, signin, sts):
    start_session(console_sandbox, signin)
    set_up(console_sandbox, "dev")
    assert settings_table(console_sandbox)["ttl_seconds"] == 300
    result = helper(console_sandbox, "background")
    assert result.code == 0, result.stderr
    check_token(result.stdout, "eu-west-1", 360)
    assert int(token_query(result.stdout)["X-Amz-Expires"]) <= 900  # never past the credentials


@pytest.mark.parametrize("context", SILENT)
def test_console_silent_contexts_need_a_sign_in_and_say_so(console_sandbox, signin, tmp_path, context):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    set_up(console_sandbox, "dev")
    result = helper(console_sandbox, context, env=recording_browser(tmp_path))
    assert result.code == 3 and result.stdout == "" and len(result.stderr.splitlines()) == 1
    assert opened(tmp_path) == [] and signin.grants["authorization_code"] == 0


def test_silent_contexts_ignore_login_from_export(console_sandbox, signin, tmp_path):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    set_up(console_sandbox, "dev")
    settings = console_sandbox.home / ".config" / "cred-export" / "config.toml"
    settings.write_text('login_from_export = "auto"\n' + settings.read_text())
    result = helper(console_sandbox, "background", env=recording_browser(tmp_path))
    assert result.code == 3 and opened(tmp_path) == []


def test_console_interactive_signs_in_in_the_browser(console_sandbox, signin, tmp_path):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    set_up(console_sandbox, "dev")
    result = helper(console_sandbox, "interactive", env=recording_browser(tmp_path), timeout=90)
    assert result.code == 0, result.stderr
    check_token(result.stdout, "eu-west-1", 360)
    (url,) = opened(tmp_path)
    assert "code_challenge_method=SHA-256" in url
    assert signin.grants["authorization_code"] == 1 and signin.dpop_violations == {}


def test_console_sign_in_refused_is_exit_3(console_sandbox, signin, tmp_path):
    console_sandbox.write_aws_config("[profile dev]\nlogin_session =\n")
    set_up(console_sandbox, "dev")
    signin.deny_next_authorization()
    result = helper(console_sandbox, "interactive", env=recording_browser(tmp_path), timeout=90)
    assert result.code == 3 and result.stdout == "" and "refused" in result.stderr


# --- a corporate OpenID Provider ----------------------------------------------------------------


def test_oidc_silent_then_interactive(sandbox, sts, oidc_op, tmp_path):
    from test_oidc import browser, configure

    configure(sandbox, oidc_op)
    set_up(sandbox, "corp")
    env = browser(tmp_path)
    for context in SILENT:
        silent = helper(sandbox, context, env=env)
        assert silent.code == 3 and silent.stdout == "", context
    assert opened(tmp_path) == []
    result = helper(sandbox, "interactive", env=env, timeout=90)
    assert result.code == 0, result.stderr
    check_token(result.stdout, "eu-west-1", 1260)
    (url,) = opened(tmp_path)
    assert "code_challenge_method=S256" in url
    assert helper(sandbox, "background", env=env).stdout == result.stdout


# --- setup claude-desktop -----------------------------------------------------------------------


def test_setup_keeps_the_rest_of_the_settings_and_replaces_its_table(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sandbox.write_settings(
        '# mine\ncache = "file"\n\n[claude_desktop]\nregion = "us-east-1"\n\n[profiles.x]\nsource = "oidc"\n'
    )
    result = sandbox.run("setup", "claude-desktop", "--profile", profile, "--region", "eu-west-1")
    assert result.code == 0, result.stderr
    assert "Claude Desktop does not run here" in result.stderr and "Claude-3p/configLibrary" in result.stderr
    text = (sandbox.home / ".config" / "cred-export" / "config.toml").read_text()
    assert (
        text.startswith('# mine\ncache = "file"\n\n[claude_desktop]\n')
        and text.count("[claude_desktop]") == 1
    )
    parsed = tomllib.loads(text)
    assert parsed["profiles"] == {"x": {"source": "oidc"}}
    assert parsed["claude_desktop"]["region"] == "eu-west-1"


def test_setup_writes_claude_desktops_library_and_keeps_other_entries(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    library = sandbox.home / "Claude-3p" / "configLibrary"
    library.mkdir(parents=True)
    (library / "_meta.json").write_text(
        json.dumps({"appliedId": "other", "entries": [{"id": "other", "name": "Mine"}]})
    )
    env = {"CRED_EXPORT_CLAUDE_DESKTOP_LIBRARY": str(library)}
    result = sandbox.run("setup", "claude-desktop", "--profile", profile, "--region", "eu-west-1", env=env)
    assert result.code == 0, result.stderr
    meta = json.loads((library / "_meta.json").read_text())
    ours = meta["appliedId"]
    assert meta["entries"] == [
        {"id": "other", "name": "Mine"},
        {"id": ours, "name": "Amazon Bedrock (cred-export)"},
    ]
    entry = json.loads((library / f"{ours}.json").read_text())
    assert entry == {
        "inferenceProvider": "bedrock",
        "inferenceBedrockRegion": "eu-west-1",
        "inferenceCredentialKind": "helper-script",
        "inferenceCredentialHelper": entry["inferenceCredentialHelper"],
        "inferenceCredentialHelperTtlSec": 1200,
        "inferenceCredentialHelperTimeoutSec": 300,
        "inferenceCredentialHelperSilentRefreshEnabled": True,
    }
    assert Path(entry["inferenceCredentialHelper"]).is_absolute()
    # What Claude Desktop will run, the way it runs it:
    completed = subprocess.run(
        [entry["inferenceCredentialHelper"]],
        env={**sandbox.env, "CLAUDE_HELPER_CONTEXT": "setup-test", "CLAUDE_HELPER_MANUAL_RUN": "1"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    remember_secret(completed.stdout)
    check_token(completed.stdout, "eu-west-1", 1260)


def test_setup_dry_run_writes_nothing(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    library = sandbox.home / "lib"
    env = {"CRED_EXPORT_CLAUDE_DESKTOP_LIBRARY": str(library)}
    result = sandbox.run(
        "setup", "claude-desktop", "--profile", profile, "--region", "eu-west-1", "--dry-run", env=env
    )
    assert result.code == 0, result.stderr
    assert "+[claude_desktop]" in result.stdout and '+  "inferenceProvider": "bedrock",' in result.stdout
    assert "[claude_desktop]" not in (sandbox.home / ".config" / "cred-export" / "config.toml").read_text()
    assert not library.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--managed",), "--managed needs --format"),
        (("--format", "reg"), "go with --managed"),
        (("--managed", "--format", "reg", "--dry-run"), "--dry-run"),
        (("--ttl", "30"), "--ttl"),
        (("--timeout", "900"), "--timeout"),
        (("--region", "nowhere"), "not an AWS region"),
        (("--executable", "relative/cred-export"), "absolute path"),
        (("--managed", "--format", "plist"), "--format"),
    ],
)
def test_setup_refuses_bad_input(sandbox, sts, args, needle):
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("setup", "claude-desktop", "--profile", profile, "--region", "eu-west-1", *args)
    assert result.code == 2 and result.stdout == "" and needle in result.stderr


def test_setup_refuses_an_unknown_profile_and_a_table_it_cannot_edit(sandbox, sts):
    sandbox.role_chain(depth=1)
    result = sandbox.run("setup", "claude-desktop", "--profile", "nope", "--region", "eu-west-1")
    assert result.code == 2 and "nope" in result.stderr
    sandbox.write_settings('cache = "file"\nclaude_desktop.region = "us-east-1"\n')
    result = sandbox.run("setup", "claude-desktop", "--profile", "role1", "--region", "eu-west-1")
    assert result.code == 2 and "edit that file by hand" in result.stderr
    assert "claude_desktop.region" in (sandbox.home / ".config" / "cred-export" / "config.toml").read_text()


def test_setup_without_any_region_asks_for_one(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("setup", "claude-desktop", "--profile", profile)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr == (
        "cred-export: no AWS region for Claude Desktop: pass --region (e.g. --region us-east-1)\n"
    )
    assert not (sandbox.home / ".config" / "cred-export" / "config.toml").read_text().count("claude_desktop")


def test_setup_refuses_a_library_file_that_is_not_json(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    library = sandbox.home / "lib"
    library.mkdir()
    (library / "_meta.json").write_text("{not json")
    env = {"CRED_EXPORT_CLAUDE_DESKTOP_LIBRARY": str(library)}
    result = sandbox.run("setup", "claude-desktop", "--profile", profile, "--region", "eu-west-1", env=env)
    assert result.code == 2 and "_meta.json is not a JSON object" in result.stderr
    assert (library / "_meta.json").read_text() == "{not json"


# --- the managed documents ----------------------------------------------------------------------

POLICY_KEYS = {
    "inferenceProvider",
    "inferenceBedrockRegion",
    "inferenceCredentialKind",
    "inferenceCredentialHelper",
    "inferenceCredentialHelperTtlSec",
    "inferenceCredentialHelperTimeoutSec",
    "inferenceCredentialHelperSilentRefreshEnabled",
}


def test_the_mobileconfig_parses_and_every_value_is_a_string(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    helper_path = "/usr/local/cred-export/cred-export"
    data = managed(
        sandbox, "mobileconfig", "--profile", profile, "--region", "us-east-1", "--executable", helper_path
    )
    document = plistlib.loads(data)
    assert document["PayloadType"] == "Configuration" and document["PayloadVersion"] == 1
    (payload,) = document["PayloadContent"]
    assert payload["PayloadType"] == "com.anthropic.claudefordesktop"
    assert payload["PayloadUUID"] != document["PayloadUUID"]
    policy = {key: value for key, value in payload.items() if not key.startswith("Payload")}
    assert set(policy) == POLICY_KEYS and all(isinstance(v, str) for v in policy.values())
    assert policy["inferenceProvider"] == "bedrock" and policy["inferenceBedrockRegion"] == "us-east-1"
    assert policy["inferenceCredentialHelper"] == helper_path
    assert policy["inferenceCredentialHelperTtlSec"] == "1200"
    assert policy["inferenceCredentialHelperTimeoutSec"] == "300"
    assert (
        managed(
            sandbox,
            "mobileconfig",
            "--profile",
            profile,
            "--region",
            "us-east-1",
            "--executable",
            helper_path,
        )
        == data
    )


def test_the_reg_file_passes_a_strict_parser_with_a_windows_path(sandbox, sts, tmp_path):
    profile = sandbox.role_chain(depth=1)
    out = tmp_path / "claude.reg"
    assert (
        managed(
            sandbox,
            "reg",
            "--profile",
            profile,
            "--region",
            "eu-central-1",
            "--executable",
            WINDOWS_HELPER,
            "-o",
            str(out),
        )
        == b""
    )
    data = out.read_bytes()
    assert data.startswith(b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n".encode("utf-16-le"))
    keys = reg_file.parse(data)
    assert list(keys) == [r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Claude"]
    policy = keys[r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Claude"]
    assert set(policy) == POLICY_KEYS
    assert policy["inferenceCredentialHelper"] == WINDOWS_HELPER
    assert r'"inferenceCredentialHelper"="C:\\Program Files\\cred-export\\cred-export.exe"' in data.decode(
        "utf-16"
    )
    assert policy["inferenceBedrockRegion"] == "eu-central-1"
    assert policy["inferenceCredentialHelperTtlSec"] == "1200"
    assert (out.stat().st_mode & 0o777) == 0o644


def test_the_reg_file_escapes_quotes(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    odd = 'C:\\Tools\\"quoted"\\cred-export.exe'
    data = managed(sandbox, "reg", "--profile", profile, "--region", "eu-west-1", "--executable", odd)
    assert (
        reg_file.parse(data)[r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Claude"]["inferenceCredentialHelper"]
        == odd
    )


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


HEAD = "Windows Registry Editor Version 5.00\r\n\r\n"
KEY = "[HKEY_LOCAL_MACHINE\\X]\r\n"


@pytest.mark.parametrize(
    "bad",
    [
        HEAD.encode(),  # no byte order mark
        utf16("REGEDIT4\r\n\r\n"),
        utf16(HEAD.replace("\r\n", "\n")),
        utf16(HEAD + '"a"="b"\r\n'),  # a value outside a key
        utf16(HEAD + "[HKEY_NOWHERE\\X]\r\n"),
        utf16(HEAD + "[HKEY_LOCAL_MACHINE\\\\X]\r\n"),  # an empty path part
        utf16(HEAD + KEY + '"a"="C:\\x"\r\n'),  # an unknown escape
        utf16(HEAD + KEY + '"a"=dword:1\r\n'),
        utf16(HEAD + KEY + '"a"="b" x\r\n'),
        utf16(HEAD + KEY + '"a"="b"'),  # no line end
        utf16(HEAD + KEY + '"a"="b"\r\n"a"="c"\r\n'),
        utf16(HEAD + KEY + "; a comment\r\n"),
    ],
)
def test_the_strict_reg_parser_refuses_what_regedit_could_misread(bad):
    with pytest.raises(reg_file.RegFileError):
        reg_file.parse(bad)


# --- doctor -------------------------------------------------------------------------------------


def doctor_check(box: Sandbox, bedrock, env: dict[str, str] | None = None) -> dict:  # type: ignore[no-untyped-def]
    point_at_stand_ins(box, bedrock)
    result = box.run("doctor", "--json", env=env, timeout=120)
    (found,) = [c for c in json.loads(result.stdout)["checks"] if c["id"] == "desktop"]
    return found


def test_doctor_says_when_the_helper_is_not_set_up(sandbox, sts, bedrock):
    sandbox.role_chain(depth=1)
    found = doctor_check(sandbox, bedrock)
    assert found["verdict"] == "ok" and "not set up" in found["detail"]


def test_doctor_runs_the_helper_and_reads_its_token(sandbox, sts, bedrock):
    profile = sandbox.role_chain(depth=1)
    set_up(sandbox, profile)
    found = doctor_check(sandbox, bedrock, env={"AWS_PROFILE": profile})
    assert found["verdict"] == "ok", found
    assert found["detail"].startswith(f"profile {profile}: a token for eu-west-1 with ")
    assert "Claude Desktop keeps it 20 min" in found["detail"]


def test_doctor_names_the_sign_in_a_silent_helper_needs(sso_sandbox, sso, sts, bedrock, tmp_path):
    write_sso_config(sso_sandbox)
    set_up(sso_sandbox, "dev")
    found = doctor_check(sso_sandbox, bedrock, env=recording_browser(tmp_path))
    assert found["verdict"] == "fail" and "exits 3 in the background" in found["detail"]
    assert found["fix"].startswith("run cred-export login --profile dev")
    assert opened(tmp_path) == []


def test_doctor_warns_when_claude_desktops_configuration_disagrees(sandbox, sts, bedrock):
    profile = sandbox.role_chain(depth=1)
    library = sandbox.home / "lib"
    env = {"CRED_EXPORT_CLAUDE_DESKTOP_LIBRARY": str(library), "AWS_PROFILE": profile}
    set_up(sandbox, profile)
    assert (
        sandbox.run("setup", "claude-desktop", "--profile", profile, "--region", "eu-west-1", env=env).code
        == 0
    )
    sandbox.write_settings(
        sandbox.home.joinpath(".config/cred-export/config.toml").read_text().replace("1200", "600")
    )
    found = doctor_check(sandbox, bedrock, env=env)
    assert found["verdict"] == "warn" and "inferenceCredentialHelperTtlSec" in found["detail"]
    assert found["fix"].startswith("run cred-export setup claude-desktop")


# --- units: the TTL rule and the TOML edit ------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime", "ttl"), [(120, 60), (900, 300), (3600, 1200), (3700, 1200), (7200, 2400), (43200, 3600)]
)
def test_the_ttl_is_a_third_of_the_lifetime_in_whole_minutes_up_to_an_hour(lifetime, ttl):
    from cred_export.claude.desktop_config import ttl_for

    assert ttl_for(lifetime) == ttl


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", '[claude_desktop]\nprofile = "p"\nttl_seconds = 60\n'),
        ('cache = "file"', 'cache = "file"\n\n[claude_desktop]\nprofile = "p"\nttl_seconds = 60\n'),
        (
            '[claude_desktop]\r\nprofile = "old"\r\n[x]\r\na = 1\r\n',
            '[claude_desktop]\r\nprofile = "p"\r\nttl_seconds = 60\r\n\r\n[x]\r\na = 1\r\n',
        ),
        (
            '[ claude_desktop ]  # mine\nprofile = "old"\n',
            '[claude_desktop]\nprofile = "p"\nttl_seconds = 60\n',
        ),
    ],
)
def test_one_table_is_set_and_the_rest_kept(text, expected):
    from cred_export.util.toml_table import with_table

    assert with_table(text, "claude_desktop", {"profile": "p", "ttl_seconds": 60}, "f") == expected


def test_a_table_a_text_edit_cannot_reach_is_refused():
    from cred_export.errors import ConfigError
    from cred_export.util.toml_table import with_table

    for text in ('claude_desktop = { profile = "x" }\n', "not toml ["):
        with pytest.raises(ConfigError):
            with_table(text, "claude_desktop", {"profile": "p"}, "f")


def test_strings_are_escaped_for_toml():
    from cred_export.util.toml_table import render_table

    text = render_table("t", {"profile": 'a"b\\c\u00e9'})
    assert tomllib.loads(text) == {"t": {"profile": 'a"b\\c\u00e9'}}


def test_at_least_raises_every_point_of_the_renewal_window():
    from cred_export.credentials import Credentials
    from cred_export.renew.cached_credentials import CachedCredentials
    from cred_export.settings import Settings

    now = time.time()
    hour = Credentials("ASIAEXAMPLEKEY000001", "s" * 40, "t", now + 3600, now)
    plain = CachedCredentials(None, "k", lambda: hour, "p", Settings()).window(hour)  # type: ignore[arg-type]
    needy = CachedCredentials(None, "k", lambda: hour, "p", Settings(), at_least=1260).window(hour)  # type: ignore[arg-type]
    assert (plain.refresh_ahead, plain.min_handout, plain.grace) == (900, 600, 360)
    assert (needy.refresh_ahead, needy.min_handout, needy.grace) == (1260, 1260, 1260)
