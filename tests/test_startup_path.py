"""What Claude Code and Claude Desktop run at every start, on a warm cache and just past it.

Claude Code runs `cred-export login` (awsAuthRefresh) before its first export whenever its own
SDK cannot resolve the profile, and Claude Desktop's helper asks for a Bedrock API key: both
are answered from the cache alone while the credentials are fresh (tests/test_hit_path.py
proves no heavy module loads), and both renew silently once the refresh window opens.
"""

from __future__ import annotations

import time

from test_bedrock_token import decode


def test_login_on_a_warm_cache_says_so_and_calls_nobody(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    exported = sandbox.run("--profile", profile).credentials
    result = sandbox.run("login", "--profile", profile)
    assert result.code == 0, result.stderr
    assert result.stdout == (
        f"Credentials for profile {profile} are valid until {exported['Expiration']}"
        f" (60 min left); no sign-in needed.\n"
    )
    assert result.stderr == ""
    assert sts.calls["AssumeRole"] == 1


def test_login_renews_credentials_inside_their_refresh_window(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    before = sandbox.run("--profile", profile).credentials
    sandbox.set_cached_expiry(600)  # a 1-hour role with 10 minutes left: refresh is due
    result = sandbox.run("login", "--profile", profile)
    assert result.code == 0, result.stderr
    assert "no sign-in needed" not in result.stdout
    assert sts.calls["AssumeRole"] == 2
    after = sandbox.run("--profile", profile).credentials
    assert after["AccessKeyId"] != before["AccessKeyId"]


def test_login_with_an_unknown_profile_is_the_slow_paths_error(sandbox, sts):
    sandbox.role_chain(depth=1)
    result = sandbox.run("login", "--profile", "nosuch")
    assert result.code == 2 and result.stdout == ""
    assert "nosuch" in result.stderr


def test_a_cached_bedrock_key_is_not_handed_out_from_credentials_due_for_refresh(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    command = ("bedrock-token", "--profile", profile, "--region", "us-east-1")
    first = decode(sandbox.run(*command).stdout.strip())
    sandbox.set_cached_expiry(600)
    second = decode(sandbox.run(*command).stdout.strip())
    assert sts.calls["AssumeRole"] == 2
    assert first["X-Amz-Credential"].split("/")[0] != second["X-Amz-Credential"].split("/")[0]
    made = time.mktime(time.strptime(second["X-Amz-Date"], "%Y%m%dT%H%M%SZ")) - time.timezone
    assert abs(made - time.time()) < 120  # made now, from the renewed credentials


def test_a_cached_bedrock_key_follows_the_profiles_region_and_the_env_format(sandbox, sts):
    profile = sandbox.role_chain(depth=1, region="ap-south-1")
    raw = sandbox.run("bedrock-token", "--profile", profile)
    env = sandbox.run("bedrock-token", "--profile", profile, "-f", "env")
    assert raw.code == env.code == 0, raw.stderr + env.stderr
    assert "/ap-south-1/" in decode(raw.stdout.strip())["X-Amz-Credential"]
    assert env.stdout == f"export AWS_BEARER_TOKEN_BEDROCK={raw.stdout}"
    other = sandbox.run("bedrock-token", "--profile", profile, env={"AWS_REGION": "eu-north-1"})
    assert "/eu-north-1/" in decode(other.stdout.strip())["X-Amz-Credential"]
    assert sts.calls["AssumeRole"] == 1
