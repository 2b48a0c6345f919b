"""The export command end to end: the installed CLI against moto's STS on 127.0.0.1."""

from __future__ import annotations

import json
import re
import stat
import sys
import time
from datetime import datetime, timezone

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def seconds_until(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp() - time.time()


def test_role_chain_of_depth_two_is_assumed_hop_by_hop_then_served_from_cache(sandbox, sts):
    profile = sandbox.role_chain(depth=2)
    first = sandbox.run("--profile", profile)
    assert first.code == 0, first.stderr
    assert first.stdout.endswith("\n") and first.stdout.count("\n") == 1
    creds = first.credentials
    assert set(creds) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert ISO_Z.match(creds["Expiration"]) and seconds_until(creds["Expiration"]) > 3000
    role1, role2 = [r for r in sts.requests if r["Action"] == "AssumeRole"]
    assert role1["RoleArn"].endswith("role/role1") and role1["_signer"] == sandbox.key_id
    assert role2["RoleArn"].endswith("role/role2") and role2["_signer"].startswith("ASIA")
    assert role2["_signer"] != creds["AccessKeyId"]

    second = sandbox.run("--profile", profile)
    assert second.code == 0 and second.credentials == creds  # moto would issue new keys
    assert sts.calls["AssumeRole"] == 2


def test_profile_comes_from_aws_profile_when_not_given(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run(env={"AWS_PROFILE": profile})
    assert result.code == 0, result.stderr
    assert sts.calls["AssumeRole"] == 1
    assert sandbox.run("export", "-p", profile).credentials == result.credentials


def test_static_keys_become_session_credentials(sandbox, sts):
    sandbox.write_credentials()
    result = sandbox.run("--profile", "base")
    assert result.code == 0, result.stderr
    creds = result.credentials
    assert creds["SessionToken"] and creds["AccessKeyId"] != sandbox.key_id
    assert sts.calls == {"GetSessionToken": 1}
    assert sts.requests[0]["_signer"] == sandbox.key_id
    assert 11 * 3600 < seconds_until(creds["Expiration"]) <= 12 * 3600
    assert sandbox.run("--profile", "base").credentials == creds
    assert sts.calls == {"GetSessionToken": 1}


def test_environment_keys_are_the_root_when_no_profile_is_named(sandbox, sts):
    env = {"AWS_ACCESS_KEY_ID": sandbox.key_id, "AWS_SECRET_ACCESS_KEY": sandbox.secret}
    result = sandbox.run(env=env)
    assert result.code == 0, result.stderr
    assert sts.calls == {"GetSessionToken": 1}
    assert sts.requests[0]["_signer"] == sandbox.key_id


def test_pasted_session_keys_are_handed_out_with_an_expiration(sandbox, sts):
    sandbox.write_credentials(
        f"[pasted]\naws_access_key_id = ASIAPASTEDPASTED0001\naws_secret_access_key = {sandbox.secret}\n"
        "aws_session_token = pasted-token\n"
    )
    result = sandbox.run("--profile", "pasted")
    assert result.code == 0, result.stderr
    assert result.credentials["SessionToken"] == "pasted-token"
    assert 3500 < seconds_until(result.credentials["Expiration"]) <= 3600
    assert sts.calls == {}


def test_duration_above_the_role_maximum_is_retried_once_with_3600(sandbox, sts):
    sandbox.write_credentials()
    sandbox.write_aws_config(
        "[profile long]\nrole_arn = arn:aws:iam::123456789012:role/long\nsource_profile = base\n"
        "duration_seconds = 43200\nexternal_id = ext-123\nrole_session_name = alice\n"
    )
    result = sandbox.run("--profile", "long")
    assert result.code == 0, result.stderr
    first, second = sts.requests
    assert first["DurationSeconds"] == "43200" and second["DurationSeconds"] == "3600"
    assert second["ExternalId"] == "ext-123" and second["RoleSessionName"] == "alice"
    assert 3000 < seconds_until(result.credentials["Expiration"]) <= 3600


def test_duration_within_the_role_maximum_is_used(sandbox, sts):
    sts.max_session_duration = 43200
    sandbox.write_credentials()
    sandbox.write_aws_config(
        "[profile long]\nrole_arn = arn:aws:iam::123456789012:role/long\nsource_profile = base\n"
        "duration_seconds = 7200\n"
    )
    result = sandbox.run("--profile", "long")
    assert result.code == 0, result.stderr
    assert [r["DurationSeconds"] for r in sts.requests] == ["7200"]
    assert seconds_until(result.credentials["Expiration"]) > 7000


def test_every_format(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    claude = sandbox.run("--profile", profile, "--format", "claude").credentials
    process = sandbox.run("--profile", profile, "--format", "process")
    assert process.code == 0
    assert process.json == {"Version": 1, **claude}
    env = sandbox.run("--profile", profile, "-f", "env")
    assert env.code == 0
    assert env.stdout.splitlines() == [
        f"export AWS_ACCESS_KEY_ID={claude['AccessKeyId']}",
        f"export AWS_SECRET_ACCESS_KEY={claude['SecretAccessKey']}",
        f"export AWS_SESSION_TOKEN={claude['SessionToken']}",
        f"export AWS_CREDENTIAL_EXPIRATION={claude['Expiration']}",
    ]
    assert sts.calls["AssumeRole"] == 1  # formats share one cache entry


def test_credentials_inside_the_refresh_window_are_refreshed(sandbox, sts):
    profile = sandbox.role_chain(depth=1)  # one-hour credentials
    first = sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(12 * 60)  # inside the 15-minute window, above the 10-minute floor
    second = sandbox.run("--profile", profile)
    assert first.code == second.code == 0
    assert first.credentials["AccessKeyId"] != second.credentials["AccessKeyId"]
    assert sts.calls["AssumeRole"] == 2


def test_credentials_outside_the_refresh_window_are_served(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sandbox.write_settings('cache = "file"\nrefresh_ahead_minutes = 14\n')
    first = sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(15 * 60)
    assert sandbox.run("--profile", profile).credentials["AccessKeyId"] == first.credentials["AccessKeyId"]
    assert sts.calls["AssumeRole"] == 1


def test_ten_exports_of_a_900_second_role_make_one_sts_call(sandbox, sts):
    profile = sandbox.role_chain(depth=1, duration_seconds="900")
    results = [sandbox.run("--profile", profile) for _ in range(10)]
    assert {r.code for r in results} == {0}
    assert len({r.stdout for r in results}) == 1 and sts.calls["AssumeRole"] == 1
    assert all(seconds_until(r.credentials["Expiration"]) > 5 * 60 for r in results)


def test_a_900_second_role_is_refreshed_in_the_second_half_of_its_life_never_below_6_minutes(sandbox, sts):
    profile = sandbox.role_chain(depth=1, duration_seconds="900")
    first = sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(8 * 60)  # 8 min left: still in the first half, a hit
    assert sandbox.run("--profile", profile).credentials["AccessKeyId"] == first.credentials["AccessKeyId"]
    sandbox.set_cached_expiry(7 * 60)  # second half: refreshed
    second = sandbox.run("--profile", profile)
    assert second.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert sts.calls["AssumeRole"] == 2
    assert seconds_until(second.credentials["Expiration"]) > 6 * 60


def test_nearly_expired_credentials_are_never_handed_out_when_refresh_works(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(9 * 60)
    second = sandbox.run("--profile", profile)
    assert second.code == 0
    assert second.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert seconds_until(second.credentials["Expiration"]) > 3000


def test_upstream_down_with_still_valid_cache_serves_it_with_a_warning(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(8 * 60)
    sts.fault = "503"
    result = sandbox.run("--profile", profile)
    assert result.code == 0
    assert result.credentials["AccessKeyId"] == first.credentials["AccessKeyId"]
    assert "warning" in result.stderr and "expire in 8 min" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_upstream_down_in_the_refresh_window_serves_the_cache(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(12 * 60)
    sts.fault = "close"
    result = sandbox.run("--profile", profile)
    assert result.code == 0, result.stderr
    assert result.credentials["AccessKeyId"] == first.credentials["AccessKeyId"]
    assert "warning" in result.stderr


def test_upstream_down_with_expired_cache_fails_with_exit_4(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sandbox.run("--profile", profile)
    sandbox.set_cached_expiry(5 * 60)
    sts.fault = "503"
    result = sandbox.run("--profile", profile)
    assert result.code == 4
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "AssumeRole" in line and profile in line
    assert "Traceback" not in result.stderr


def test_sts_refusal_is_exit_4_with_one_line(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sts.fault = "throttle"
    result = sandbox.run("--profile", profile)
    assert result.code == 4
    assert result.stderr.count("\n") == 1 and "Throttling" in result.stderr
    assert sts.calls["AssumeRole"] == 3  # botocore's bounded retries, then give up


def test_mfa_profile_without_a_session_asks_for_login_without_prompting(sandbox, sts):
    sandbox.role_chain(depth=1, mfa_serial="arn:aws:iam::123456789012:mfa/alice")
    result = sandbox.run("--profile", "role1")
    assert result.code == 3
    assert "cred-export login --profile role1" in result.stderr
    assert result.stdout == "" and sts.calls == {}


def test_mfa_session_in_the_cache_is_used_for_the_chain(sandbox, sts, tmp_path):
    sandbox.role_chain(depth=1, mfa_serial="arn:aws:iam::123456789012:mfa/alice")
    seed = tmp_path / "seed.py"
    seed.write_text(
        "import time\n"
        "from cred_export.aws.config import load_aws_config\n"
        "from cred_export.chain import resolve_chain\n"
        "from cred_export.credentials import Credentials\n"
        "from cred_export.stores.file_store import FileStore\n"
        "chain = resolve_chain(load_aws_config(), 'role1', profile_named=True)\n"
        "session = Credentials('ASIAMFASESSION000001', 's', 't', time.time() + 3600)\n"
        "FileStore().put(chain.root.session_key(), session)\n"
    )
    import subprocess

    subprocess.run([sys.executable, str(seed)], env=sandbox.env, cwd=tmp_path, check=True, timeout=30)
    result = sandbox.run("--profile", "role1")
    assert result.code == 0, result.stderr
    assert [r["_signer"] for r in sts.requests] == ["ASIAMFASESSION000001"]


def test_credential_process_profiles_resolve_through_botocore_and_are_cached(sandbox, sts, tmp_path):
    counter = tmp_path / "calls"
    script = tmp_path / "helper.py"
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    document = {
        "Version": 1,
        "AccessKeyId": "ASIAPROCESS000000001",
        "SecretAccessKey": "proc-secret",
        "SessionToken": "proc-token",
        "Expiration": expiry,
    }
    script.write_text(f"open({str(counter)!r}, 'a').write('x')\nprint({json.dumps(document)!r})\n")
    sandbox.write_aws_config(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    first = sandbox.run("--profile", "proc")
    assert first.code == 0, first.stderr
    assert first.credentials == {
        "AccessKeyId": "ASIAPROCESS000000001",
        "SecretAccessKey": "proc-secret",
        "SessionToken": "proc-token",
        "Expiration": expiry,
    }
    assert sandbox.run("--profile", "proc").credentials == first.credentials
    assert counter.read_text() == "x"
    assert sts.calls == {}


def test_credential_process_with_long_term_keys_gets_a_session_token(sandbox, sts, tmp_path):
    script = tmp_path / "helper.py"
    document = {"Version": 1, "AccessKeyId": sandbox.key_id, "SecretAccessKey": sandbox.secret}
    script.write_text(f"print({json.dumps(document)!r})\n")
    sandbox.write_aws_config(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    result = sandbox.run("--profile", "proc")
    assert result.code == 0, result.stderr
    assert sts.calls == {"GetSessionToken": 1}


def test_failing_credential_process_is_exit_4(sandbox, sts, tmp_path):
    sandbox.write_aws_config(
        f"[profile proc]\ncredential_process = {sys.executable} -c 'import sys; sys.exit(3)'\n"
    )
    result = sandbox.run("--profile", "proc")
    assert result.code == 4, result.stderr
    assert "proc" in result.stderr and "Traceback" not in result.stderr


def test_changed_role_never_serves_the_old_credentials(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", profile)
    config = sandbox.home / ".aws" / "config"
    config.write_text(config.read_text().replace("role/role1", "role/other"))
    second = sandbox.run("--profile", profile)
    assert second.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert sts.requests[-1]["RoleArn"].endswith("role/other")


def test_cache_none_fetches_every_time(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    env = {"CRED_EXPORT_CACHE": "none"}
    assert sandbox.run("--profile", profile, env=env).code == 0
    assert sandbox.run("--profile", profile, env=env).code == 0
    assert sts.calls["AssumeRole"] == 2
    assert sandbox.cached_files() == []


def test_cache_files_and_directories_are_private(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    assert sandbox.run("--profile", profile).code == 0
    for path in [sandbox.cache_dir, *sandbox.cache_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} has mode {oct(mode)}"


def test_debug_shows_steps_and_masked_key_ids_only(sandbox, sts):
    profile = sandbox.role_chain(depth=2)
    miss = sandbox.run("--profile", profile, "--debug")
    hit = sandbox.run("--profile", profile, "--debug")
    key_id = miss.credentials["AccessKeyId"]
    for result in (miss, hit):
        assert result.code == 0
        assert f"****{key_id[-4:]}" in result.stderr
        assert key_id not in result.stderr
    assert "AssumeRole" in miss.stderr and "cache miss" in miss.stderr
    assert "cache hit" in hit.stderr
    env_debug = sandbox.run("--profile", profile, env={"CRED_EXPORT_DEBUG": "1"})
    assert "cache hit" in env_debug.stderr


def test_python_dash_m_runs_the_same_cli(sandbox, sts):
    import subprocess

    profile = sandbox.role_chain(depth=1)
    completed = subprocess.run(
        [sys.executable, "-m", "cred_export", "--profile", profile],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["Credentials"]["AccessKeyId"].startswith("ASIA")
