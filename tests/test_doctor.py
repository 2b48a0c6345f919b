"""`cred-export doctor` end to end: the installed CLI against moto's STS and a Bedrock stand-in."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.bedrock_server import ApplicationProfile, BedrockServer, application_arn
from harness.sandbox import EXECUTABLE, Result, Sandbox, assert_no_leak

CHECK_IDS = [
    "config",
    "profile",
    "keyring",
    "cache",
    "region",
    "environment",
    "credentials",
    "identity",
    "clock",
    "bedrock",
    "model",
    "claude-code",
    "startup",
    "desktop",
]
MODEL = "global.anthropic.claude-sonnet-4-6"
BROWSER = Path(__file__).parent / "harness" / "browser.py"


@pytest.fixture(scope="session")
def _bedrock_server() -> Iterator[BedrockServer]:
    server = BedrockServer()
    yield server
    server.close()


@pytest.fixture
def bedrock(_bedrock_server: BedrockServer) -> BedrockServer:
    """Bedrock's control plane on 127.0.0.1, its profiles, switches and counters reset."""
    _bedrock_server.reset()
    return _bedrock_server


def point_at_stand_ins(box: Sandbox, bedrock: BedrockServer) -> Sandbox:
    """Bedrock at the stand-in; managed settings in the sandbox; a project directory to run in."""
    box.env["AWS_ENDPOINT_URL_BEDROCK"] = bedrock.url
    box.env["CRED_EXPORT_CLAUDE_MANAGED_SETTINGS"] = str(box.root / "managed-settings.json")
    (box.root / "project").mkdir(exist_ok=True)
    return box


@pytest.fixture
def box(sandbox: Sandbox, bedrock: BedrockServer) -> Sandbox:
    """A file-store sandbox with Bedrock pointed at the stand-in."""
    return point_at_stand_ins(sandbox, bedrock)


def wire_claude(box: Sandbox, profile: str, *, env: dict[str, str] | None = None) -> None:
    """~/.claude/settings.json as the README says: both hooks, Bedrock mode, a region."""
    settings = {
        "awsCredentialExport": f"{EXECUTABLE} --profile {profile}",
        "awsAuthRefresh": f"{EXECUTABLE} login --profile {profile}",
        "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", **(env or {})},
    }
    write_json(box.home / ".claude" / "settings.json", settings)


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def doctor(box: Sandbox, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run `cred-export doctor` in the sandbox's project directory; no secret may be printed."""
    completed = subprocess.run(
        [EXECUTABLE, "doctor", *args],
        env={**box.env, **(env or {})},
        cwd=box.root / "project",
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    assert_no_leak(result.stdout)
    assert_no_leak(result.stderr)
    return result


def checks(result: Result) -> dict[str, dict]:
    document = result.json
    validate(document)
    return {check["id"]: check for check in document["checks"]}


def validate(document: object) -> None:
    """The documented `--json` shape, exactly."""
    assert isinstance(document, dict) and set(document) == {"profile", "checks", "ok"}
    assert isinstance(document["profile"], str) and document["profile"]
    assert isinstance(document["ok"], bool)
    assert [check["id"] for check in document["checks"]] == CHECK_IDS
    for check in document["checks"]:
        assert set(check) == {"id", "verdict", "detail", "fix"}
        assert check["verdict"] in ("ok", "warn", "fail", "skip")
        assert isinstance(check["detail"], str) and check["detail"] and "\n" not in check["detail"]
        if check["verdict"] in ("warn", "fail"):
            assert isinstance(check["fix"], str) and check["fix"] and "\n" not in check["fix"]
        else:
            assert check["fix"] is None
    assert document["ok"] == all(check["verdict"] != "fail" for check in document["checks"])


def verdicts(found: dict[str, dict]) -> dict[str, str]:
    return {check_id: check["verdict"] for check_id, check in found.items()}


def healthy(box: Sandbox, **claude_env: str) -> str:
    profile = box.role_chain(depth=1)
    wire_claude(box, profile, env={"ANTHROPIC_MODEL": MODEL, **claude_env})
    return profile


def test_healthy_setup_is_all_ok_and_names_what_it_found_in_text_and_json(box, sts, bedrock):
    profile = healthy(box)
    result = doctor(box)  # the profile comes from the awsCredentialExport hook
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [["ok", check_id] for check_id in CHECK_IDS]
    assert lines[-1] == f"profile {profile}: 14 ok, 0 warn, 0 fail, 0 skip: all good"
    text = dict(line.split(None, 2)[1:] for line in lines[:-1])
    assert f"{profile} (from awsCredentialExport in user settings)" in text["profile"]
    assert text["region"] == "us-east-1 (AWS_REGION from user settings ~/.claude/settings.json)"
    assert text["environment"] == "no proxy; CAs: the system's CA store"
    assert "assumed-role/role1/" in text["identity"]
    assert text["bedrock"] == "3 inference profiles in us-east-1 (3 Anthropic)"
    assert text["model"].startswith(f"{MODEL}: an inference profile in us-east-1")
    assert text["claude-code"] == (
        "settings: user ~/.claude/settings.json; "
        f"awsCredentialExport (user): {EXECUTABLE} --profile {profile}; "
        f"awsAuthRefresh (user): {EXECUTABLE} login --profile {profile}; "
        "CLAUDE_CODE_USE_BEDROCK=1 (user)"
    )
    assert text["startup"].startswith("warm cache (file store): export ")
    assert "budgets: export <= 1.5x python, login <= 1.2x export" in text["startup"]
    assert text["cache"].startswith("no cached credentials yet")
    assert "(fetched)" in text["credentials"] and "****" in text["credentials"]
    (request,) = bedrock.requests
    assert request.region == "us-east-1" and request.key_id.startswith("ASIA")
    assert sts.calls["AssumeRole"] == 1

    exported = box.run("--profile", profile)  # learns the credentials: no later output may show them
    assert exported.code == 0
    as_json = doctor(box, "--json")
    assert as_json.code == 0
    validate(as_json.json)
    assert as_json.json["profile"] == profile and as_json.json["ok"] is True
    again = checks(as_json)
    assert again["cache"]["detail"].startswith("cached ****" + exported.credentials["AccessKeyId"][-4:])
    assert again["credentials"]["detail"].endswith("(from the cache)")
    assert sts.calls["AssumeRole"] == 1
    assert_no_leak(result.stdout + result.stderr)  # the first run's output, now that the values are known


def test_sso_profile_without_a_token_fails_credentials_with_the_login_command(sso_sandbox, sso, bedrock):
    box = point_at_stand_ins(sso_sandbox, bedrock)
    box.write_aws_config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
    )
    box.write_settings('cache = "file"\nlogin_from_export = "auto"\n')  # export would sign in; doctor never
    browser_log = box.root / "browser.log"
    browser = {"BROWSER": f"{sys.executable} {BROWSER} %s", "BROWSER_LOG": str(browser_log)}
    wire_claude(box, "dev")
    result = doctor(box, "--json", env=browser)
    assert result.code == 1
    found = checks(result)
    assert found["credentials"]["verdict"] == "fail"
    assert found["credentials"]["detail"].startswith("sign-in required for profile dev")
    assert found["credentials"]["fix"] == "run cred-export login --profile dev"
    assert verdicts(found) | {"credentials": "?"} == {
        **dict.fromkeys(CHECK_IDS, "ok"),
        "credentials": "?",
        "identity": "skip",
        "bedrock": "skip",
        "startup": "skip",
    }
    assert bedrock.calls == {}
    assert not browser_log.exists() and sum(sso.calls.values()) == 0


def test_mfa_profile_without_a_session_fails_credentials_without_prompting(box, sts, bedrock):
    profile = box.role_chain(depth=1, mfa_serial="arn:aws:iam::123456789012:mfa/alice")
    wire_claude(box, profile)
    found = checks(doctor(box, "--json"))
    assert found["credentials"]["verdict"] == "fail"
    assert found["credentials"]["fix"] == f"run cred-export login --profile {profile}"
    assert sts.calls["AssumeRole"] == 0


def test_malformed_aws_config_fails_config_without_echoing_the_line(box, sts, bedrock):
    box.write_aws_config(f"aws_secret_access_key = {box.secret}\n[profile role1]\n")
    result = doctor(box, "--profile", "role1")
    assert result.code == 1
    assert result.stdout.startswith("fail  config       cannot parse ")
    assert "line 1" in result.stdout.splitlines()[0]
    assert box.secret not in result.stdout
    assert result.stdout.splitlines()[1].startswith("skip  profile")


def test_unknown_profile_fails_and_lists_the_known_ones(box, sts, bedrock):
    box.role_chain(depth=1)
    found = checks(doctor(box, "--json", "--profile", "nope"))
    assert found["profile"]["verdict"] == "fail"
    assert "known profiles: base, role1" in found["profile"]["detail"]
    assert "[profile nope]" in found["profile"]["fix"]
    assert found["credentials"]["verdict"] == "skip" and found["bedrock"]["verdict"] == "skip"


@pytest.mark.parametrize(
    ("model", "verdict", "words"),
    [
        ("anthropic.claude-sonnet-4-6", "fail", "on-demand throughput isn't supported"),
        (f"arn:aws:bedrock:us-east-1:123456789012:foundation-model/{MODEL[7:]}", "fail", "on-demand"),
        ("eu.anthropic.claude-sonnet-4-6", "fail", "is not an inference profile in us-east-1"),
        ("us.anthropic.claude-haiku-4-5[1m]", "ok", "an inference profile in us-east-1"),
        (application_arn("a1b2c3d4e5f6", "us-east-1"), "ok", "listed in us-east-1"),
    ],
)
def test_model_ids_are_checked_against_the_listed_inference_profiles(
    box, sts, bedrock, model, verdict, words
):
    healthy(box, ANTHROPIC_MODEL=model)
    bedrock.applications = [
        ApplicationProfile("a1b2c3d4e5f6", "team-alpha", "us.anthropic.claude-sonnet-4-6")
    ]
    found = checks(doctor(box, "--json"))
    assert found["model"]["verdict"] == verdict, found["model"]
    assert words in found["model"]["detail"]
    assert (found["model"]["fix"] is None) == (verdict == "ok")


def test_bare_foundation_model_names_the_inference_profiles_to_use_instead(box, sts, bedrock):
    healthy(box)
    result = doctor(box, "--json", "--model", "anthropic.claude-sonnet-4-6")
    assert result.code == 1
    model = checks(result)["model"]
    assert model["detail"] == (
        "anthropic.claude-sonnet-4-6 (from --model) is a foundation model:"
        " on-demand throughput isn't supported"
    )
    assert model["fix"] == (
        "use an inference profile id such as"
        " global.anthropic.claude-sonnet-4-6 or us.anthropic.claude-sonnet-4-6"
    )


def test_invalid_claude_settings_json_fails_claude_code(box, sts, bedrock):
    healthy(box)
    project_settings = box.root / "project" / ".claude" / "settings.json"
    project_settings.parent.mkdir(parents=True)
    project_settings.write_text('{"env": {"AWS_REGION": "us-east-1",}')
    found = checks(doctor(box, "--json", "--profile", "role1"))
    assert found["claude-code"]["verdict"] == "fail"
    assert found["claude-code"]["detail"].startswith("project settings: ")
    assert "is not valid JSON" in found["claude-code"]["detail"]


def test_managed_settings_override_the_users_hook_and_are_shown_as_effective(box, sts, bedrock):
    healthy(box)
    user = json.loads((box.home / ".claude" / "settings.json").read_text())
    user["awsCredentialExport"] = "/usr/local/bin/other-helper --profile personal"
    write_json(box.home / ".claude" / "settings.json", user)
    write_json(
        Path(box.env["CRED_EXPORT_CLAUDE_MANAGED_SETTINGS"]),
        {"awsCredentialExport": f"{EXECUTABLE} -p role1"},
    )
    result = doctor(box, "--json")
    found = checks(result)
    assert result.json["profile"] == "role1"  # taken from the effective (managed) hook
    detail = found["claude-code"]["detail"]
    managed = box.env["CRED_EXPORT_CLAUDE_MANAGED_SETTINGS"]
    assert detail.startswith(f"settings: managed {managed}, user ~/.claude/settings.json; ")
    assert f"awsCredentialExport (managed, overriding user): {EXECUTABLE} -p role1;" in detail
    assert "other-helper" not in detail
    assert found["claude-code"]["verdict"] == "ok" and result.code == 0


def test_hooks_missing_or_not_cred_export_are_warnings(box, sts, bedrock):
    profile = box.role_chain(depth=1)
    write_json(
        box.home / ".claude" / "settings.json",
        {"awsCredentialExport": "aws-vault export --format=json x", "env": {"AWS_REGION": "us-east-1"}},
    )
    result = doctor(box, "--json", "--profile", profile)
    assert result.code == 0
    wiring = checks(result)["claude-code"]
    assert wiring["verdict"] == "warn"
    assert wiring["fix"] == (  # one command fixes them all
        "awsCredentialExport does not run cred-export; awsAuthRefresh is not set;"
        f" CLAUDE_CODE_USE_BEDROCK is not 1: run cred-export setup claude --profile {profile}"
    )


def test_region_only_in_the_profile_warns_and_is_used(box, sts, bedrock):
    healthy(box)
    settings = json.loads((box.home / ".claude" / "settings.json").read_text())
    del settings["env"]["AWS_REGION"]
    write_json(box.home / ".claude" / "settings.json", settings)
    (box.home / ".aws" / "config").write_text(
        (box.home / ".aws" / "config").read_text() + "[default]\nregion = eu-west-1\n"
    )
    found = checks(doctor(box, "--json"))
    assert found["region"]["verdict"] == "warn"
    profile = found["profile"]["detail"].split()[0]
    assert found["region"]["fix"] == f"run cred-export setup claude --profile {profile} --region eu-west-1"
    assert bedrock.requests[0].region == "eu-west-1"


def test_no_region_anywhere_fails(box, sts, bedrock):
    box.role_chain(depth=1)
    found = checks(doctor(box, "--json", "--profile", "role1"))
    assert found["region"]["verdict"] == "fail"
    assert found["bedrock"]["verdict"] == "ok"  # Claude Code's last resort, us-east-1
    assert bedrock.requests[0].region == "us-east-1"


def test_no_secret_service_is_a_keyring_warning(box, sts, bedrock):
    healthy(box)
    box.write_settings("")  # the default: keyring, but this sandbox has no D-Bus
    result = doctor(box)
    assert result.code == 0
    (line,) = [line for line in result.stdout.splitlines() if line.split()[1] == "keyring"]
    assert line.startswith("warn  keyring      ")
    assert "caching in ~/.cache/cred-export/credentials instead" in line
    assert "fix: run a Secret Service in this session" in line
    assert result.stdout.splitlines()[-1].endswith("working, with warnings")


def test_real_secret_service_is_named(keyring_sandbox, sts, bedrock):
    box = point_at_stand_ins(keyring_sandbox, bedrock)
    healthy(box)
    found = checks(doctor(box, "--json"))
    assert found["keyring"] == {
        "id": "keyring",
        "verdict": "ok",
        "detail": "Secret Service (SecretService backend)",
        "fix": None,
    }
    assert found["credentials"]["verdict"] == "ok"


def test_bedrock_access_denied_fails_with_the_iam_fix(box, sts, bedrock):
    healthy(box)
    bedrock.deny = True
    result = doctor(box, "--json")
    assert result.code == 1
    found = checks(result)
    assert found["bedrock"]["verdict"] == "fail"
    assert found["bedrock"]["detail"].startswith(
        "ListInferenceProfiles in us-east-1: AccessDeniedException: User:"
    )
    assert "cred-export iam-policy" in found["bedrock"]["fix"]
    assert found["model"]["verdict"] == "skip"


def test_sts_outage_fails_credentials_and_skips_what_needs_them(box, sts, bedrock):
    healthy(box)
    sts.fault = "503"
    found = checks(doctor(box, "--json"))
    assert verdicts(found)["credentials"] == "fail"
    assert {verdicts(found)[i] for i in ("identity", "bedrock", "model")} == {"skip"}
    assert found["clock"]["verdict"] == "ok"  # read from an unsigned STS answer's Date header


@pytest.mark.parametrize(
    ("skew", "verdict"),
    [(0.4, "ok"), (-45, "ok"), (90, "warn"), (-200, "warn"), (301, "fail"), (-3600, "fail")],
)
def test_clock_skew_thresholds(skew, verdict):
    from cred_export.doctor.clock import verdict as clock_verdict

    assert clock_verdict(skew).verdict == verdict


def test_stand_in_speaks_bedrocks_protocol_to_botocore(bedrock):
    import botocore.session
    from botocore.exceptions import ClientError

    session = botocore.session.Session()
    client = session.create_client(
        "bedrock",
        region_name="eu-west-1",
        endpoint_url=bedrock.url,
        aws_access_key_id="AKIAEXAMPLEKEY000001",
        aws_secret_access_key="example-secret",
    )
    bedrock.page_size = 2
    bedrock.applications = [
        ApplicationProfile("a1b2c3d4e5f6", "team-alpha", "us.anthropic.claude-sonnet-4-6")
    ]
    pages = list(client.get_paginator("list_inference_profiles").paginate())
    assert [len(page["inferenceProfileSummaries"]) for page in pages] == [2, 1]
    first = pages[0]["inferenceProfileSummaries"][0]
    assert first["inferenceProfileArn"] == (
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-6"
    )
    assert first["type"] == "SYSTEM_DEFINED" and first["status"] == "ACTIVE"
    apps = client.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]
    assert [app["inferenceProfileArn"] for app in apps] == [application_arn("a1b2c3d4e5f6", "eu-west-1")]
    assert {r.key_id for r in bedrock.requests} == {"AKIAEXAMPLEKEY000001"}
    assert bedrock.requests[-1].query["type"] == "APPLICATION"
    bedrock.deny = True
    with pytest.raises(ClientError) as denied:
        client.list_inference_profiles()
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert bedrock.calls["ListInferenceProfiles"] == 4


def test_stand_in_refuses_unsigned_requests(bedrock):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{bedrock.url}/inference-profiles", timeout=10)
    assert refused.value.code == 403
    assert refused.value.headers["x-amzn-ErrorType"].startswith("MissingAuthenticationTokenException")
    assert bedrock.calls == {}


def test_help_lists_the_options():
    completed = subprocess.run(
        [EXECUTABLE, "doctor", "--help"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert completed.returncode == 0
    assert all(option in completed.stdout for option in ("--profile", "--json", "--model"))


def test_startup_warns_when_managed_settings_make_claude_code_ignore_the_users_hook(box, sts, bedrock):
    profile = healthy(box)
    write_json(box.root / "managed-settings.json", {"env": {"AWS_PROFILE": "corp"}})
    found = checks(doctor(box, "--json", "--profile", profile))
    startup = found["startup"]
    assert startup["verdict"] == "warn"
    assert startup["detail"] == (
        "managed settings set AWS_PROFILE=corp: Claude Code then ignores awsCredentialExport from the user"
        " settings"
    )
    assert startup["fix"].startswith("put the hooks in the managed settings too (sudo cred-export setup")


def test_startup_warns_when_login_is_not_answered_from_the_cache(box, sts, bedrock, tmp_path):
    """A hook whose `login` takes seconds, as the slow path did, is flagged."""
    slow = tmp_path / "bin" / "cred-export"
    slow.parent.mkdir()
    slow.write_text(f'#!/bin/sh\n[ "$1" = login ] && sleep 2\nexec {EXECUTABLE} "$@"\n')
    slow.chmod(0o755)
    profile = box.role_chain(depth=1)
    write_json(
        box.home / ".claude" / "settings.json",
        {
            "awsCredentialExport": f"{slow} --profile {profile}",
            "awsAuthRefresh": f"{slow} login --profile {profile}",
            "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", "ANTHROPIC_MODEL": MODEL},
        },
    )
    startup = checks(doctor(box, "--json"))["startup"]
    assert startup["verdict"] == "warn", startup
    assert "login is not answered from the cache: Claude Code pays this at every start" in startup["detail"]
    assert startup["fix"] == f"run cred-export login --profile {profile} --debug and look for 'cache hit'"


def test_startup_times_a_python_dash_m_hook_and_warns_when_a_run_fails(box, sts, bedrock, tmp_path):
    profile = box.role_chain(depth=1)
    module_hook = {
        "awsCredentialExport": f"{sys.executable} -m cred_export --profile {profile}",
        "awsAuthRefresh": f"{sys.executable} -m cred_export login --profile {profile}",
        "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1", "ANTHROPIC_MODEL": MODEL},
    }
    write_json(box.home / ".claude" / "settings.json", module_hook)
    startup = checks(doctor(box, "--json"))["startup"]
    assert startup["verdict"] == "ok", startup
    assert startup["detail"].startswith("warm cache (file store): export ")

    failing = tmp_path / "bin" / "cred-export"
    failing.parent.mkdir()
    failing.write_text(f'#!/bin/sh\n[ "$1" = login ] && exit 3\nexec {EXECUTABLE} "$@"\n')
    failing.chmod(0o755)
    module_hook["awsCredentialExport"] = f"{failing} --profile {profile}"
    write_json(box.home / ".claude" / "settings.json", module_hook)
    startup = checks(doctor(box, "--json"))["startup"]
    assert startup["verdict"] == "warn", startup
    assert startup["detail"] == f"{failing} login --profile {profile} --timeout 5 exited 3"
