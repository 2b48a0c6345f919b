"""IAM Identity Center end to end: login flows, silent renewal, AWS CLI interop, chains."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from harness.sandbox import Sandbox, read_until_url
from harness.sso_server import AWS_CLI_TOKEN_FIELDS

START_URL = "https://corp.awsapps.com/start"
BROWSER_SCRIPT = Path(__file__).parent / "harness" / "browser.py"


def write_sso_config(box: Sandbox, *, roles: tuple[str, ...] = ("Dev",), extra: str = "") -> None:
    profiles = "".join(
        f"[profile {role.lower()}]\nsso_session = corp\n"
        f"sso_account_id = 123456789012\nsso_role_name = {role}\n"
        for role in roles
    )
    box.write_aws_config(
        profiles + f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n" + extra
    )


def token_path(box: Sandbox, name: str = "corp") -> Path:
    return box.home / ".aws" / "sso" / "cache" / (hashlib.sha1(name.encode()).hexdigest() + ".json")


def seed_token(box: Sandbox, sso, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    token = sso.seed_token(start_url=START_URL, **kwargs)
    path = token_path(box)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token))
    return token


def browser_env(tmp_path: Path) -> dict[str, str]:
    return {"BROWSER": f"{sys.executable} {BROWSER_SCRIPT} %s", "BROWSER_LOG": str(tmp_path / "browser.log")}


def test_export_without_a_token_asks_for_login(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    result = sso_sandbox.run("--profile", "dev")
    assert result.code == 3 and result.stdout == ""
    assert result.stderr.startswith(
        "cred-export: sign-in required for profile dev: run cred-export login --profile dev"
    )
    assert sum(sso.calls.values()) == 0


def test_device_code_login_then_export_is_a_hit_with_no_server_request(sso_sandbox, sso, sts):
    write_sso_config(sso_sandbox)
    login = sso_sandbox.popen("login", "--profile", "dev", "--device-code")
    url = read_until_url(login)
    assert "user_code=" in url
    urllib.request.urlopen(url, timeout=10).read()  # the user approves in a browser
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert "Signed in" in out
    token = json.loads(token_path(sso_sandbox).read_text())
    assert set(token) >= AWS_CLI_TOKEN_FIELDS
    assert stat.S_IMODE(token_path(sso_sandbox).stat().st_mode) == 0o600
    before = sum(sso.calls.values())
    export = sso_sandbox.run("--profile", "dev")
    assert export.code == 0, export.stderr
    assert export.credentials["AccessKeyId"].startswith("ASIA")
    assert sum(sso.calls.values()) == before  # served from the cache: no portal call
    assert sts.calls == {}


def test_browser_login_uses_pkce_and_survives_stray_requests(sso_sandbox, sso, tmp_path):
    write_sso_config(sso_sandbox)
    result = sso_sandbox.run("login", "--profile", "dev", "--browser", env=browser_env(tmp_path), timeout=60)
    assert result.code == 0, result.stderr
    (opened,) = (tmp_path / "browser.log").read_text().splitlines()
    assert opened in result.stdout  # the URL is printed too, for when no browser opens
    assert "code_challenge_method=S256" in opened
    grants = [r.get("grantType") for r in sso.requests if r["op"] == "CreateToken"]
    assert grants == ["authorization_code"]
    assert sso.calls["Authorize"] == 1
    assert sso_sandbox.run("--profile", "dev").code == 0


def test_login_with_valid_cached_credentials_returns_at_once(sso_sandbox, sso, tmp_path):
    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso)
    assert sso_sandbox.run("--profile", "dev").code == 0
    calls = sum(sso.calls.values())
    result = sso_sandbox.run("login", "--profile", "dev", env=browser_env(tmp_path))
    assert result.code == 0 and "no sign-in needed" in result.stdout
    assert sum(sso.calls.values()) == calls
    assert not (tmp_path / "browser.log").exists()


def test_login_renews_silently_before_opening_any_browser(sso_sandbox, sso, tmp_path):
    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso, access_ttl=120)
    result = sso_sandbox.run("login", "--profile", "dev", env=browser_env(tmp_path))
    assert result.code == 0, result.stderr
    assert not (tmp_path / "browser.log").exists()
    assert sso.calls["CreateToken"] == 1


def test_export_renews_the_access_token_silently_and_rotates_the_refresh_token(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    seeded = seed_token(sso_sandbox, sso, access_ttl=600)  # inside the 15-minute window
    result = sso_sandbox.run("--profile", "dev")
    assert result.code == 0, result.stderr
    assert sso.calls["CreateToken"] == 1 and sso.calls["GetRoleCredentials"] == 1
    renewed = json.loads(token_path(sso_sandbox).read_text())
    assert renewed["refreshToken"] != seeded["refreshToken"]
    assert renewed["accessToken"] != seeded["accessToken"]
    assert renewed["clientId"] == seeded["clientId"]


def test_sixteen_concurrent_exports_share_one_renewal(sso_sandbox, sso):
    roles = tuple(f"Role{n}" for n in range(16))
    sso.roles = {("123456789012", role) for role in roles}
    write_sso_config(sso_sandbox, roles=roles)
    seed_token(sso_sandbox, sso, access_ttl=300)
    processes = [sso_sandbox.popen("--profile", role.lower()) for role in roles]
    outcomes = [(p.wait(timeout=180), p.stderr.read()) for p in processes]  # type: ignore[union-attr]
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert sso.calls["CreateToken"] == 1
    assert sso.calls["GetRoleCredentials"] == 16
    for process in processes:
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]


def test_revoked_refresh_token_means_sign_in_not_a_loop(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso, access_ttl=-60)
    sso.revoke_refresh_tokens()
    first = sso_sandbox.run("--profile", "dev")
    assert first.code == 3 and "cred-export login --profile dev" in first.stderr
    assert sso.calls["CreateToken"] == 1
    second = sso_sandbox.run("--profile", "dev")
    assert second.code == 3
    assert sso.calls["CreateToken"] == 1  # the spent refresh token is not presented again


def test_expired_token_without_refresh_token_asks_for_login(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso, access_ttl=-60, with_refresh=False)
    result = sso_sandbox.run("--profile", "dev")
    assert result.code == 3 and "expired" in result.stderr
    assert sum(sso.calls.values()) == 0


def test_a_token_the_portal_rejects_asks_for_login(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso)
    sso.expire_access_tokens()
    result = sso_sandbox.run("--profile", "dev")
    assert result.code == 3 and "cred-export login --profile dev" in result.stderr


def test_unassigned_role_is_exit_4(sso_sandbox, sso):
    write_sso_config(sso_sandbox, roles=("Admin",))
    seed_token(sso_sandbox, sso)
    result = sso_sandbox.run("--profile", "admin")
    assert result.code == 4 and "ForbiddenException" in result.stderr


def test_login_times_out_with_exit_3(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    started = time.monotonic()
    result = sso_sandbox.run("login", "--profile", "dev", "--device-code", "--timeout", "5", timeout=60)
    assert result.code == 3 and "not completed in time" in result.stderr
    assert time.monotonic() - started < 20


def test_browser_login_times_out_when_nobody_signs_in(sso_sandbox, sso, tmp_path):
    write_sso_config(sso_sandbox)
    env = {**browser_env(tmp_path), "BROWSER_DOES_NOTHING": "1"}
    result = sso_sandbox.run("login", "--profile", "dev", "--timeout", "5", env=env, timeout=60)
    assert result.code == 3 and "not completed in time" in result.stderr


def test_parallel_logins_open_one_browser(sso_sandbox, sso, tmp_path):
    write_sso_config(sso_sandbox)
    env = browser_env(tmp_path)
    processes = [sso_sandbox.popen("login", "--profile", "dev", env=env) for _ in range(3)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert len((tmp_path / "browser.log").read_text().splitlines()) == 1
    assert sso.calls["Authorize"] == 1


def test_botocore_accepts_the_token_cred_export_wrote(sso_sandbox, sso, tmp_path):
    write_sso_config(sso_sandbox)
    assert sso_sandbox.run("login", "--profile", "dev", env=browser_env(tmp_path)).code == 0
    code = (
        "import botocore.session; print(botocore.session.Session(profile='dev').get_credentials().access_key)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], env=sso_sandbox.env, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("ASIA")


def test_cred_export_uses_the_token_botocore_renewed_and_wrote(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    seeded = seed_token(sso_sandbox, sso, access_ttl=300)
    code = "import botocore.session; botocore.session.Session(profile='dev').get_credentials().access_key"
    subprocess.run([sys.executable, "-c", code], env=sso_sandbox.env, check=True, timeout=60)
    written = json.loads(token_path(sso_sandbox).read_text())
    assert written["accessToken"] != seeded["accessToken"]  # botocore renewed and saved it
    assert sso.calls["CreateToken"] == 1
    result = sso_sandbox.run("--profile", "dev")
    assert result.code == 0, result.stderr
    assert sso.calls["CreateToken"] == 1  # its token was good enough: no second renewal


def test_a_token_another_tool_renewed_meanwhile_is_used_and_not_wiped(sso_sandbox, sso):
    """cred-export read the token file; before its renewal reached SSO-OIDC, botocore renewed and
    rewrote the file, spending the refresh token cred-export presents."""
    write_sso_config(sso_sandbox)
    seed_token(sso_sandbox, sso, access_ttl=300)
    stale = token_path(sso_sandbox).read_text()
    code = "import botocore.session; botocore.session.Session(profile='dev').get_credentials().access_key"
    subprocess.run([sys.executable, "-c", code], env=sso_sandbox.env, check=True, timeout=60)
    renewed_elsewhere = token_path(sso_sandbox).read_text()
    token_path(sso_sandbox).write_text(stale)  # what cred-export reads first

    def botocore_writes_while_our_call_is_in_flight() -> None:
        deadline = time.monotonic() + 30
        while sso.create_token_in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        token_path(sso_sandbox).write_text(renewed_elsewhere)

    sso.create_token_delay = 1.0
    writer = threading.Thread(target=botocore_writes_while_our_call_is_in_flight)
    writer.start()
    result = sso_sandbox.run("--profile", "dev")
    writer.join(timeout=30)
    assert result.code == 0, result.stderr
    kept = json.loads(token_path(sso_sandbox).read_text())
    assert kept["refreshToken"] == json.loads(renewed_elsewhere)["refreshToken"]  # not wiped


def test_sso_profile_as_the_root_of_an_assume_role_chain(sso_sandbox, sso, sts):
    write_sso_config(
        sso_sandbox,
        extra="[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = dev\n",
    )
    seed_token(sso_sandbox, sso)
    result = sso_sandbox.run("--profile", "admin")
    assert result.code == 0, result.stderr
    (assume,) = sts.requests
    assert assume["RoleArn"].endswith("role/admin") and assume["_signer"].startswith("ASIA")
    assert sso.calls["GetRoleCredentials"] == 1


def test_legacy_profile_with_sso_start_url(sso_sandbox, sso):
    sso_sandbox.write_aws_config(
        f"[profile old]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Dev\n"
    )
    token = sso.seed_token(start_url=START_URL, with_refresh=False)
    path = token_path(sso_sandbox, START_URL)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(token))
    assert sso_sandbox.run("--profile", "old").code == 0


def test_login_from_export_signs_in_on_a_desktop(sso_sandbox, sso, tmp_path):
    write_sso_config(sso_sandbox)
    sso_sandbox.write_settings('cache = "file"\nlogin_from_export = "auto"\n')
    result = sso_sandbox.run("--profile", "dev", env=browser_env(tmp_path), timeout=60)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert "authorize" in result.stderr  # the sign-in talk went to stderr, stdout stayed clean


def test_login_from_export_never_on_a_headless_machine(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    sso_sandbox.write_settings('cache = "file"\nlogin_from_export = "auto"\n')
    result = sso_sandbox.run("--profile", "dev", env={"SSH_CONNECTION": "10.0.0.1 22 10.0.0.2 22"})
    assert result.code == 3
    assert sum(sso.calls.values()) == 0


@pytest.mark.parametrize(
    "config, needle",
    [
        (
            "[profile dev]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = Dev\n",
            "[sso-session nope]",
        ),
        (
            "[profile dev]\nsso_session = corp\nsso_role_name = Dev\n[sso-session corp]\nsso_start_url = x\n"
            "sso_region = us-east-1\n",
            "sso_account_id",
        ),
        (
            "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Dev\n[sso-session corp]\n"
            "sso_start_url = x\n",
            "sso_region",
        ),
    ],
)
def test_sso_configuration_errors(sso_sandbox, sso, config, needle):
    sso_sandbox.write_aws_config(config)
    result = sso_sandbox.run("--profile", "dev")
    assert result.code == 2 and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_token_file_asks_for_login(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    path = token_path(sso_sandbox)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{not json\xff")
    result = sso_sandbox.run("--profile", "dev")
    assert result.code == 3
