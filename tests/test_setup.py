"""`cred-export setup claude`: merging into Claude Code's settings, managed settings, dry runs."""

from __future__ import annotations

import json
import os
import shlex
import stat
from pathlib import Path

import pytest
from harness.sandbox import EXECUTABLE, Sandbox

MANAGED_PATHS = (
    "/Library/Application Support/ClaudeCode/managed-settings.json",
    "/etc/claude-code/managed-settings.json",
    r"C:\Program Files\ClaudeCode\managed-settings.json",
)


@pytest.fixture
def box(sandbox: Sandbox) -> Sandbox:
    """A sandbox with profile `dev` (static keys → role) whose region is eu-west-1."""
    sandbox.write_credentials()
    sandbox.write_aws_config(
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n"
        "region = eu-west-1\n"
        "[profile no-region]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\n"
        "[profile my team]\nrole_arn = arn:aws:iam::123456789012:role/t\nsource_profile = base\n"
    )
    return sandbox


def settings_path(box: Sandbox) -> Path:
    return box.home / ".claude" / "settings.json"


def backup_of(path: Path) -> Path:
    return path.with_name("settings.json.bak")


def write_settings(box: Sandbox, text: str) -> Path:
    path = settings_path(box)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def hook(*args: str) -> str:
    return shlex.join([EXECUTABLE, *args])


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- writing user settings --------------------------------------------------------------


def test_absent_settings_file_is_created_with_the_hooks(box: Sandbox) -> None:
    result = box.run("setup", "claude", "--profile", "dev")
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    path = settings_path(box)
    assert json.loads(path.read_text()) == {
        "awsCredentialExport": hook("--profile", "dev"),
        "awsAuthRefresh": hook("login", "--profile", "dev"),
        "env": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-west-1"},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not backup_of(path).exists()
    line = one_line(result.stderr)
    assert "created" in line and str(path) in line and "awsCredentialExport" in line


def test_the_hooks_run_this_installed_executable(box: Sandbox) -> None:
    box.run("setup", "claude", "--profile", "dev")
    command = json.loads(settings_path(box).read_text())["awsCredentialExport"]
    assert shlex.split(command) == [EXECUTABLE, "--profile", "dev"]
    assert os.path.isabs(shlex.split(command)[0])


def test_profile_names_are_shell_quoted(box: Sandbox) -> None:
    assert box.run("setup", "claude", "--profile", "my team", "--region", "us-east-1").code == 0
    data = json.loads(settings_path(box).read_text())
    assert shlex.split(data["awsCredentialExport"]) == [EXECUTABLE, "--profile", "my team"]
    assert shlex.split(data["awsAuthRefresh"]) == [EXECUTABLE, "login", "--profile", "my team"]


def test_profile_defaults_to_aws_profile(box: Sandbox) -> None:
    assert box.run("setup", "claude", env={"AWS_PROFILE": "dev"}).code == 0
    assert json.loads(settings_path(box).read_text())["awsCredentialExport"] == hook("--profile", "dev")


def test_claude_config_dir_is_honoured_and_created(box: Sandbox) -> None:
    config_dir = box.root / "elsewhere" / "claude"
    result = box.run("setup", "claude", "-p", "dev", env={"CLAUDE_CONFIG_DIR": str(config_dir)})
    assert result.code == 0, result.stderr
    assert json.loads((config_dir / "settings.json").read_text())["env"]["AWS_REGION"] == "eu-west-1"
    assert not settings_path(box).exists()


def test_empty_object_gets_the_hooks_and_a_backup(box: Sandbox) -> None:
    path = write_settings(box, "{}\n")
    assert box.run("setup", "claude", "-p", "dev").code == 0
    assert json.loads(path.read_text())["awsCredentialExport"] == hook("--profile", "dev")
    assert backup_of(path).read_text() == "{}\n"


def test_an_empty_file_counts_as_an_empty_object(box: Sandbox) -> None:
    path = write_settings(box, "")
    assert box.run("setup", "claude", "-p", "dev").code == 0
    assert json.loads(path.read_text())["env"]["CLAUDE_CODE_USE_BEDROCK"] == "1"
    assert backup_of(path).read_text() == ""


def test_other_keys_and_env_entries_are_kept(box: Sandbox) -> None:
    before = {
        "model": "opus",
        "permissions": {"allow": ["Bash(ls:*)"]},
        "env": {"DISABLE_PROMPT_CACHING": "1", "AWS_REGION": "us-west-2"},
        "awsCredentialExport": "aws-vault exec x -- something",
    }
    path = write_settings(box, json.dumps(before, indent=2))
    result = box.run("setup", "claude", "-p", "dev")
    assert result.code == 0, result.stderr
    after = json.loads(path.read_text())
    assert after["model"] == "opus"
    assert after["permissions"] == {"allow": ["Bash(ls:*)"]}
    assert after["env"] == {
        "DISABLE_PROMPT_CACHING": "1",
        "AWS_REGION": "eu-west-1",
        "CLAUDE_CODE_USE_BEDROCK": "1",
    }
    assert list(after) == ["model", "permissions", "env", "awsCredentialExport", "awsAuthRefresh"]
    assert after["awsCredentialExport"] == hook("--profile", "dev")
    line = one_line(result.stderr)
    assert "set env.AWS_REGION, env.CLAUDE_CODE_USE_BEDROCK, awsCredentialExport, awsAuthRefresh (" in line


def test_backup_holds_the_previous_file_byte_for_byte(box: Sandbox) -> None:
    original = b'{\r\n    "theme": "dark",\r\n    "env": {"FOO": "bar"}\r\n}'  # CRLF, no final newline
    path = settings_path(box)
    path.parent.mkdir(parents=True)
    path.write_bytes(original)
    result = box.run("setup", "claude", "-p", "dev")
    assert result.code == 0, result.stderr
    assert backup_of(path).read_bytes() == original
    assert str(backup_of(path)) in result.stderr


def test_existing_indentation_and_mode_are_kept(box: Sandbox) -> None:
    path = write_settings(box, '{\n    "theme": "dark"\n}\n')
    path.chmod(0o600)
    assert box.run("setup", "claude", "-p", "dev").code == 0
    assert path.read_text().startswith('{\n    "theme": "dark",\n    "awsCredentialExport"')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_of(path).stat().st_mode) == 0o600


def test_write_leaves_no_temporary_files(box: Sandbox) -> None:
    write_settings(box, '{"theme": "dark"}')
    assert box.run("setup", "claude", "-p", "dev").code == 0
    assert box.run("setup", "claude", "-p", "dev", "--region", "us-east-1").code == 0
    assert sorted(p.name for p in settings_path(box).parent.iterdir()) == [
        "settings.json",
        "settings.json.bak",
    ]


def test_a_symlinked_settings_file_stays_a_symlink(box: Sandbox) -> None:
    dotfiles = box.root / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "claude-settings.json").write_text('{"theme": "dark"}\n')
    path = settings_path(box)
    path.parent.mkdir(parents=True)
    path.symlink_to(dotfiles / "claude-settings.json")
    assert box.run("setup", "claude", "-p", "dev").code == 0
    assert path.is_symlink()
    assert json.loads((dotfiles / "claude-settings.json").read_text())["theme"] == "dark"
    assert "awsCredentialExport" in json.loads(path.read_text())


def test_second_run_is_idempotent(box: Sandbox) -> None:
    path = write_settings(box, '{"theme": "dark"}\n')
    assert box.run("setup", "claude", "-p", "dev", "--model", "global.anthropic.claude-sonnet-4-6").code == 0
    backup_of(path).unlink()
    written = path.stat()
    result = box.run("setup", "claude", "-p", "dev", "--model", "global.anthropic.claude-sonnet-4-6")
    assert result.code == 0
    assert "already configured" in one_line(result.stderr)
    assert not backup_of(path).exists()
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('{"theme": "dark",}', "not valid JSON"),
        ("[1, 2]", "array"),
        ('"just a string"', "not a JSON object"),
        ('{"env": ["FOO=1"]}', '"env" is not a JSON object'),
    ],
)
def test_a_file_that_is_not_a_json_object_is_left_alone(box: Sandbox, content: str, complaint: str) -> None:
    path = write_settings(box, content)
    before = path.stat()
    result = box.run("setup", "claude", "-p", "dev")
    assert result.code == 2
    line = one_line(result.stderr)
    assert complaint in line and str(path) in line
    assert "Traceback" not in result.stderr
    assert path.read_text() == content
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_unknown_profile_is_refused(box: Sandbox) -> None:
    result = box.run("setup", "claude", "--profile", "dve")
    assert result.code == 2
    assert "'dve' not found" in one_line(result.stderr)
    assert not settings_path(box).parent.exists()


# --- region --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ("--region", "ap-southeast-2"),
            {"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-1"},
            "ap-southeast-2",
        ),
        ((), {"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-west-1"}, "us-east-2"),
        ((), {"AWS_DEFAULT_REGION": "us-west-1"}, "us-west-1"),
        ((), {}, "eu-west-1"),
    ],
)
def test_region_resolution_order(
    box: Sandbox, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    result = box.run("setup", "claude", "-p", "dev", *args, env=env)
    assert result.code == 0, result.stderr
    assert json.loads(settings_path(box).read_text())["env"]["AWS_REGION"] == expected


def test_no_region_anywhere_asks_for_region(box: Sandbox) -> None:
    result = box.run("setup", "claude", "-p", "no-region")
    assert result.code == 2
    assert "--region" in one_line(result.stderr)
    assert not settings_path(box).exists()


def test_malformed_region_is_refused(box: Sandbox) -> None:
    result = box.run("setup", "claude", "-p", "dev", "--region", "us-east1")
    assert result.code == 2
    assert "us-east1" in one_line(result.stderr)


# --- models and guardrails -----------------------------------------------------------------


def test_models_are_written_to_env(box: Sandbox) -> None:
    result = box.run(
        "setup",
        "claude",
        "-p",
        "dev",
        "--model",
        "global.anthropic.claude-sonnet-4-6",
        "--haiku-model",
        "us.anthropic.claude-haiku-4-5",
    )
    assert result.code == 0
    assert "warning" not in result.stderr
    env = json.loads(settings_path(box).read_text())["env"]
    assert env["ANTHROPIC_MODEL"] == "global.anthropic.claude-sonnet-4-6"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "us.anthropic.claude-haiku-4-5"


@pytest.mark.parametrize("flag", ["--model", "--haiku-model"])
def test_bare_foundation_model_warns_but_writes(box: Sandbox, flag: str) -> None:
    result = box.run("setup", "claude", "-p", "dev", flag, "anthropic.claude-sonnet-4-6")
    assert result.code == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert flag in warnings[0] and "global.anthropic.claude-sonnet-4-6" in warnings[0]
    assert "us.anthropic.claude-sonnet-4-6" in warnings[0] and "on-demand throughput" in warnings[0]
    assert "anthropic.claude-sonnet-4-6" in settings_path(box).read_text()


def test_application_inference_profile_arn_does_not_warn(box: Sandbox) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
    result = box.run("setup", "claude", "-p", "dev", "--model", arn)
    assert result.code == 0
    assert "warning" not in result.stderr


def test_guardrail_becomes_custom_headers(box: Sandbox) -> None:
    assert box.run("setup", "claude", "-p", "dev", "--guardrail", "abc123xyz456:3").code == 0
    env = json.loads(settings_path(box).read_text())["env"]
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == (
        "X-Amzn-Bedrock-GuardrailIdentifier: abc123xyz456\nX-Amzn-Bedrock-GuardrailVersion: 3"
    )


def test_guardrail_arn_and_draft_version(box: Sandbox) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123xyz456"
    assert box.run("setup", "claude", "-p", "dev", "--guardrail", f"{arn}:DRAFT").code == 0
    env = json.loads(settings_path(box).read_text())["env"]
    assert env["ANTHROPIC_CUSTOM_HEADERS"] == (
        f"X-Amzn-Bedrock-GuardrailIdentifier: {arn}\nX-Amzn-Bedrock-GuardrailVersion: DRAFT"
    )


def test_guardrail_keeps_other_custom_headers(box: Sandbox) -> None:
    old = "X-Team: ml\nX-Amzn-Bedrock-GuardrailIdentifier: old\nX-Amzn-Bedrock-GuardrailVersion: 1"
    path = write_settings(box, json.dumps({"env": {"ANTHROPIC_CUSTOM_HEADERS": old}}))
    assert box.run("setup", "claude", "-p", "dev", "--guardrail", "new1:2").code == 0
    assert json.loads(path.read_text())["env"]["ANTHROPIC_CUSTOM_HEADERS"] == (
        "X-Team: ml\nX-Amzn-Bedrock-GuardrailIdentifier: new1\nX-Amzn-Bedrock-GuardrailVersion: 2"
    )


@pytest.mark.parametrize("spec", ["abc123", "abc123:", ":1", "abc123:v1", "ABC 123:1", "abc123:0"])
def test_malformed_guardrail_is_refused(box: Sandbox, spec: str) -> None:
    result = box.run("setup", "claude", "-p", "dev", "--guardrail", spec)
    assert result.code == 2
    assert "ID:VERSION" in one_line(result.stderr)
    assert not settings_path(box).exists()


# --- dry run -------------------------------------------------------------------------------


def test_dry_run_prints_a_diff_and_writes_nothing(box: Sandbox) -> None:
    path = write_settings(box, '{\n  "theme": "dark"\n}\n')
    result = box.run("setup", "claude", "-p", "dev", "--dry-run")
    assert result.code == 0
    assert result.stdout.startswith(f"--- {path} (before)\n+++ {path} (after)\n@@")
    assert '-  "theme": "dark"\n' in result.stdout
    assert '+  "theme": "dark",\n' in result.stdout
    assert f'+  "awsCredentialExport": {json.dumps(hook("--profile", "dev"))},\n' in result.stdout
    assert "nothing written" in one_line(result.stderr)
    assert path.read_text() == '{\n  "theme": "dark"\n}\n'
    assert not backup_of(path).exists()


def test_dry_run_without_a_file_creates_nothing(box: Sandbox) -> None:
    result = box.run("setup", "claude", "-p", "dev", "--dry-run")
    assert result.code == 0
    assert '+    "AWS_REGION": "eu-west-1"\n' in result.stdout
    assert not settings_path(box).parent.exists()


# --- managed settings ----------------------------------------------------------------------


def test_managed_prints_the_document_and_where_it_goes(box: Sandbox) -> None:
    result = box.run(
        "setup", "claude", "-p", "dev", "--managed", "--model", "global.anthropic.claude-sonnet-4-6"
    )
    assert result.code == 0, result.stderr
    assert result.json == {
        "awsCredentialExport": hook("--profile", "dev"),
        "awsAuthRefresh": hook("login", "--profile", "dev"),
        "env": {
            "CLAUDE_CODE_USE_BEDROCK": "1",
            "AWS_REGION": "eu-west-1",
            "ANTHROPIC_MODEL": "global.anthropic.claude-sonnet-4-6",
        },
    }
    line = one_line(result.stderr)
    assert all(place in line for place in MANAGED_PATHS)
    assert not settings_path(box).parent.exists()


def test_managed_has_the_same_keys_as_user_settings(box: Sandbox) -> None:
    args = ("-p", "dev", "--guardrail", "g1:1", "--haiku-model", "us.anthropic.claude-haiku-4-5")
    managed = box.run("setup", "claude", "--managed", *args).json
    assert box.run("setup", "claude", *args).code == 0
    assert json.loads(settings_path(box).read_text()) == managed


def test_managed_executable_override(box: Sandbox) -> None:
    result = box.run("setup", "claude", "-p", "dev", "--managed", "--executable", "/usr/bin/cred-export")
    assert result.json["awsCredentialExport"] == "/usr/bin/cred-export --profile dev"
    assert result.json["awsAuthRefresh"] == "/usr/bin/cred-export login --profile dev"


def test_relative_executable_is_refused(box: Sandbox) -> None:
    result = box.run("setup", "claude", "-p", "dev", "--managed", "--executable", "bin/cred-export")
    assert result.code == 2
    assert "absolute" in one_line(result.stderr)


def test_managed_output_writes_the_file(box: Sandbox) -> None:
    target = box.root / "image" / "managed-settings.json"
    target.parent.mkdir()
    result = box.run("setup", "claude", "-p", "dev", "--managed", "--output", str(target))
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(target.read_text())["awsCredentialExport"] == hook("--profile", "dev")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    line = one_line(result.stderr)
    assert str(target) in line and all(place in line for place in MANAGED_PATHS)
    assert sorted(p.name for p in target.parent.iterdir()) == ["managed-settings.json"]


def test_managed_for_a_profile_defined_only_on_the_targets_warns(box: Sandbox) -> None:
    result = box.run("setup", "claude", "-p", "corp-bedrock", "--managed", "--region", "us-east-1")
    assert result.code == 0
    assert result.json["awsCredentialExport"] == hook("--profile", "corp-bedrock")
    warning, where = result.stderr.strip().splitlines()
    assert "warning" in warning and "'corp-bedrock' not found" in warning
    assert "managed-settings.json" in where


def test_output_without_managed_is_refused(box: Sandbox) -> None:
    result = box.run("setup", "claude", "-p", "dev", "--output", str(box.root / "x.json"))
    assert result.code == 2
    assert "--managed" in one_line(result.stderr)
    assert not (box.root / "x.json").exists()


def test_managed_settings_that_win_are_pointed_out(box: Sandbox) -> None:
    managed = box.root / "managed-settings.json"
    managed.write_text(json.dumps({"awsCredentialExport": "/opt/other --profile x"}))
    result = box.run(
        "setup", "claude", "-p", "dev", env={"CRED_EXPORT_CLAUDE_MANAGED_SETTINGS": str(managed)}
    )
    assert result.code == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(managed) in warnings[0] and "awsCredentialExport" in warnings[0]
