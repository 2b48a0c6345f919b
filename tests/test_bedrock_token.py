"""Option E of Claude Code's Bedrock page: short-term Bedrock API keys (`cred-export bedrock-token`)."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit


def decode(token: str) -> dict[str, str]:
    """The presigned request inside a key: `bedrock-api-key-` + base64 of `host/?query&Version=1`."""
    assert token.startswith("bedrock-api-key-")
    url = base64.b64decode(token.removeprefix("bedrock-api-key-")).decode()
    parts = urlsplit("https://" + url)
    assert parts.netloc == "bedrock.amazonaws.com"
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


def test_a_key_is_made_from_the_profiles_credentials_for_the_region(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("bedrock-token", "--profile", profile, "--region", "eu-west-1")
    assert result.code == 0, result.stderr
    token = result.stdout.strip()
    query = decode(token)
    assert query["Action"] == "CallWithBearerToken" and query["Version"] == "1"
    assert "/eu-west-1/bedrock/aws4_request" in query["X-Amz-Credential"]
    assert query["X-Amz-Security-Token"]
    export = sandbox.run("--profile", profile).credentials  # the credentials it was made from
    assert query["X-Amz-Credential"].startswith(export["AccessKeyId"] + "/")
    lifetime = int(query["X-Amz-Expires"])
    left = time.mktime(time.strptime(export["Expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())
    assert 0 < lifetime <= min(12 * 3600, left + 5)  # never past the credentials behind it
    assert sts.calls["AssumeRole"] == 1


def test_a_key_is_cached_and_made_again_for_another_region(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("bedrock-token", "--profile", profile, "--region", "us-east-1").stdout
    again = sandbox.run("bedrock-token", "--profile", profile, "--region", "us-east-1").stdout
    other = sandbox.run("bedrock-token", "--profile", profile, "--region", "us-west-2").stdout
    assert first == again != other
    assert sts.calls["AssumeRole"] == 1


def test_region_comes_from_aws_region_then_the_profile(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    from_env = sandbox.run("bedrock-token", "--profile", profile, env={"AWS_REGION": "ap-south-1"})
    assert "/ap-south-1/" in decode(from_env.stdout.strip())["X-Amz-Credential"]
    config = sandbox.home / ".aws" / "config"
    config.write_text(config.read_text() + "region = sa-east-1\n")  # the last profile: role1
    from_profile = sandbox.run("bedrock-token", "--profile", profile)
    assert "/sa-east-1/" in decode(from_profile.stdout.strip())["X-Amz-Credential"]


def test_without_a_region_it_says_how_to_give_one(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("bedrock-token", "--profile", profile)
    assert result.code == 2 and result.stdout == ""
    assert "--region" in result.stderr and "AWS_REGION" in result.stderr


def test_env_format_is_an_export_line(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("bedrock-token", "--profile", profile, "--region", "us-east-1", "--format", "env")
    name, _, value = result.stdout.strip().removeprefix("export ").partition("=")
    assert name == "AWS_BEARER_TOKEN_BEDROCK" and decode(value)


def test_a_failing_profile_is_the_same_one_line_as_export(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sts.fault = "503"
    result = sandbox.run("bedrock-token", "--profile", profile, "--region", "us-east-1", timeout=90)
    assert result.code == 4 and result.stdout == "" and "AssumeRole" in result.stderr


def test_the_key_is_kept_in_the_store_and_clear_forgets_it(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    token = sandbox.run("bedrock-token", "--profile", profile, "--region", "us-east-1").stdout.strip()
    holding = [p for p in sandbox.cached_files() if token in p.read_text()]
    assert len(holding) == 1 and (holding[0].stat().st_mode & 0o777) == 0o600
    assert sandbox.run("clear", "--profile", profile).code == 0
    assert not holding[0].exists()
