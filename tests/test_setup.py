"""`cred-export setup claude`: merging into Claude Code's settings, managed settings, dry runs."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
from pathlib import Path

import pytest
from harness.sandbox import EXECUTABLE, Result, Sandbox

from cred_export.claude.code_wiring import cmd_quote, command_line
from cred_export.errors import ConfigError

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


# --- Windows: what cmd.exe, then the C runtime, make of a hook command ----------------------

WINDOWS_EXE = r"C:\Program Files\cred-export\cred-export.exe"
# Where cmd.exe ends an unquoted command token: its token delimiters, and (to be safe) the
# characters it splits internal command names at.
CMD_COMMAND_END = frozenset(" \t,;=/+[]")


def any_variable(name: str) -> str:
    """The worst case for expansion: every variable is defined."""
    return f"<value of {name}>"


def cmd_then_crt(line: str, *, delayed_expansion: bool = True) -> list[str]:
    """The argv a C program gets when Claude Code runs `line` through cmd.exe.

    A model of `cmd.exe /d /s /c "<line>"` (how Node runs a shell command; the line arrives
    unchanged): %NAME% expansion, inside quotes too; then `"` toggling the quote state, with `^`
    escaping and `& | < > ( )` special outside quotes; then !NAME! expansion (delayed expansion);
    then the C runtime's argv rules. Fails the test when cmd.exe would do anything but run one
    program with the whole line, or when cmd.exe and the program disagree on which program it is.
    """
    text = _percent_expansion(line)
    kept: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if char in "\r\n\0":
            raise AssertionError(f"cmd.exe ends the command at {char!r} in {line!r}")
        if char == '"':
            quoted = not quoted
        elif not quoted:
            if char == "^":
                if i + 1 == len(text):
                    raise AssertionError(f"cmd.exe continues the line after the final ^ in {line!r}")
                kept.append(text[i + 1])
                i += 2
                continue
            if char in "&|":
                raise AssertionError(f"cmd.exe runs another command at {char!r} in {line!r}")
            if char in "<>":
                raise AssertionError(f"cmd.exe redirects at {char!r} in {line!r}")
            if char in "()":
                raise AssertionError(f"cmd.exe reads {char!r} as a block in {line!r}")
        kept.append(char)
        i += 1
    text = "".join(kept)
    if delayed_expansion and "!" in text:
        text = _delayed_expansion(text)
    text = text.lstrip(" \t")
    program = _command_token(text)
    argv = _crt_argv(text)
    assert argv[0] == program, f"cmd.exe runs {program!r}, which reads its name as {argv[0]!r}"
    return argv


def _percent_expansion(line: str) -> str:
    """Command-line mode: %NAME% is replaced wherever it is (an undefined one would stay)."""
    out, i = [], 0
    while i < len(line):
        end = line.find("%", i + 1) if line[i] == "%" else -1
        if end > i + 1:
            out.append(any_variable(line[i + 1 : end]))
            i = end + 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def _delayed_expansion(text: str) -> str:
    """With a `!` in the command, `^` escapes everywhere, !NAME! expands and a lone `!` goes."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "^" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif char == "!":
            end = text.find("!", i + 1)
            if end == -1:
                i += 1
            else:
                if end > i + 1:
                    out.append(any_variable(text[i + 1 : end]))
                i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _command_token(text: str) -> str:
    """The program cmd.exe runs: up to an unquoted delimiter, quotes removed."""
    out, quoted = [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in CMD_COMMAND_END:
            break
        else:
            out.append(char)
    return "".join(out)


def _crt_argv(text: str) -> list[str]:
    """The C runtime's (UCRT) argv: the program name has no backslash escapes; the arguments
    have 2n backslashes + `"` → n and a quote toggle, 2n+1 + `"` → n and a literal `"`, and
    `""` inside quotes → a literal `"`."""
    i, name, quoted = 0, [], False
    while i < len(text) and (quoted or text[i] not in " \t"):
        if text[i] == '"':
            quoted = not quoted
        else:
            name.append(text[i])
        i += 1
    argv = ["".join(name)]
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i == len(text):
            return argv
        arg, quoted = [], False
        while i < len(text) and (quoted or text[i] not in " \t"):
            char = text[i]
            if char == "\\":
                end = i
                while end < len(text) and text[end] == "\\":
                    end += 1
                count = end - i
                if end < len(text) and text[end] == '"':
                    arg.append("\\" * (count // 2))
                    if count % 2:
                        arg.append('"')
                        end += 1
                else:
                    arg.append("\\" * count)
                i = end
            elif char == '"':
                if quoted and text[i + 1 : i + 2] == '"':
                    arg.append('"')
                    i += 2
                else:
                    quoted = not quoted
                    i += 1
            else:
                arg.append(char)
                i += 1
        argv.append("".join(arg))


def test_the_cmd_model_catches_what_the_old_quoting_wrote() -> None:
    """The model is no rubber stamp: it sees the attacks list2cmdline let through."""
    old = subprocess.list2cmdline
    for value in ("dev&calc", "a|b", "x>y"):
        with pytest.raises(AssertionError, match=r"another command|redirects"):
            cmd_then_crt(old([WINDOWS_EXE, "--profile", value]))
    # `\"` means a quote to the C runtime only: cmd.exe sees the & outside quotes.
    with pytest.raises(AssertionError, match="another command"):
        cmd_then_crt(old([WINDOWS_EXE, "--profile", 'a "&calc&" b']))
    assert cmd_then_crt(old([WINDOWS_EXE, "--profile", "p^q"]))[-1] == "pq"
    assert cmd_then_crt(f'"{WINDOWS_EXE}" --profile "dev%PATH%"')[-1] == "dev<value of PATH>"
    assert cmd_then_crt(f'"{WINDOWS_EXE}" --profile "x!USERNAME!"')[-1] == "x<value of USERNAME>"
    assert cmd_then_crt(f'"{WINDOWS_EXE}" --profile "a\\"b"')[-1] == 'a"b'
    assert cmd_then_crt(f'"{WINDOWS_EXE}" --profile "a""b"')[-1] == 'a"b'


def windows_managed(box: Sandbox, profile: str, *extra: str) -> Result:
    return box.run(
        "setup", "claude", "--managed", "--executable", WINDOWS_EXE, "--profile", profile,
        "--region", "us-east-1", *extra,
    )  # fmt: skip


@pytest.mark.parametrize("profile", ["dev&calc", "a|b", "x>y", "p^q", "with space", "(x)", "a<b"])
def test_windows_hooks_quote_what_cmd_would_split(box: Sandbox, profile: str) -> None:
    result = windows_managed(box, profile)
    assert result.code == 0, result.stderr
    export, refresh = result.json["awsCredentialExport"], result.json["awsAuthRefresh"]
    assert export == f'"{WINDOWS_EXE}" --profile "{profile}"'
    assert refresh == f'"{WINDOWS_EXE}" login --profile "{profile}"'
    assert cmd_then_crt(export) == [WINDOWS_EXE, "--profile", profile]
    assert cmd_then_crt(refresh) == [WINDOWS_EXE, "login", "--profile", profile]
    assert cmd_then_crt(export, delayed_expansion=False) == [WINDOWS_EXE, "--profile", profile]


def test_windows_plain_values_stay_bare(box: Sandbox) -> None:
    executable = r"C:\cred-export\cred-export.exe"
    result = box.run("setup", "claude", "--managed", "--executable", executable, "-p", "dev")
    assert result.json["awsCredentialExport"] == rf"{executable} --profile dev"
    assert result.json["awsAuthRefresh"] == rf"{executable} login --profile dev"


@pytest.mark.parametrize(("profile", "char"), [("dev%PATH%", "%"), ('a"b', '"'), ("x!y", "!")])
def test_windows_refuses_what_no_quoting_makes_safe(box: Sandbox, profile: str, char: str) -> None:
    config = box.home / ".aws" / "config"
    config.write_text(
        config.read_text()
        + f"[profile {profile}]\nrole_arn = arn:aws:iam::123456789012:role/q\nsource_profile = base\n"
    )
    path = write_settings(box, '{"theme": "dark"}\n')
    before = path.stat()
    target = box.root / "managed-settings.json"
    runs = {
        "user settings": box.run(
            "setup", "claude", "--executable", WINDOWS_EXE, "-p", profile, "--region", "us-east-1"
        ),
        "--managed": windows_managed(box, profile),
        "--managed --output": windows_managed(box, profile, "--output", str(target)),
    }
    for how, result in runs.items():
        assert result.code == 2, how
        assert result.stdout == "", how
        line = one_line(result.stderr)
        assert f"--profile {profile!r} contains {char!r}" in line, how
        assert "Traceback" not in result.stderr
    assert path.read_text() == '{"theme": "dark"}\n'
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]
    assert not target.exists()


@pytest.mark.parametrize("executable", [EXECUTABLE, WINDOWS_EXE])
def test_a_line_break_is_refused_for_either_shell(box: Sandbox, executable: str) -> None:
    target = box.root / "managed-settings.json"
    result = box.run(
        "setup", "claude", "--managed", "--output", str(target), "--executable", executable,
        "--profile", "dev\nx", "--region", "us-east-1",
    )  # fmt: skip
    assert result.code == 2
    error = result.stderr.strip().splitlines()[-1]  # after the warning that 'dev\nx' is not defined here
    assert "--profile 'dev\\nx' contains '\\n'" in error
    assert not target.exists()


@pytest.mark.parametrize("executable", ["/usr/bin/cred-export", WINDOWS_EXE])
@pytest.mark.parametrize("char", ["\r", "\n", "\0"])
def test_line_ends_and_nul_are_refused_for_either_shell(executable: str, char: str) -> None:
    with pytest.raises(ConfigError) as caught:
        command_line(executable, "login", "--profile", f"a{char}b")
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert f"--profile {f'a{char}b'!r} contains {char!r}" in message


def test_posix_hooks_still_take_what_cmd_would_expand() -> None:
    value = 'a"b%c!d'
    assert command_line("/usr/bin/cred-export", "--profile", value) == shlex.join(
        ["/usr/bin/cred-export", "--profile", value]
    )


def test_a_windows_executable_path_cmd_would_expand_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^the cred-export path 'C:\\\\Users\\\\100%dev.*contains '%'"):
        command_line(r"C:\Users\100%dev\cred-export.exe", "--profile", "dev")


@pytest.mark.parametrize(
    ("path", "written"),
    [
        (r"C:\cred-export\cred-export.exe", r"C:\cred-export\cred-export.exe"),
        (WINDOWS_EXE, f'"{WINDOWS_EXE}"'),
        # the program name has no backslash escapes, for cmd.exe or the C runtime: kept as is
        ("C:\\Program Files (x86)\\tools\\", '"C:\\Program Files (x86)\\tools\\"'),
        ("C:\\tools\\\\", "C:\\tools\\\\"),
        # cmd.exe ends an unquoted command token at = , ; and reads / as a switch
        (r"C:\a=b,c\cred-export.exe", r'"C:\a=b,c\cred-export.exe"'),
        ("C:/Program Files/cred-export.exe", '"C:/Program Files/cred-export.exe"'),
        (r"C:\R&D\cred-export.exe", r'"C:\R&D\cred-export.exe"'),
    ],
)
def test_the_program_path_is_quoted_for_cmd(path: str, written: str) -> None:
    assert cmd_quote(path, program=True) == written
    assert cmd_then_crt(f"{written} --profile dev") == [path, "--profile", "dev"]
    assert command_line(path, "--profile", "dev") == f"{written} --profile dev"


@pytest.mark.parametrize(
    ("arg", "written"),
    [
        ("dev", "dev"),
        ("C:\\dir\\", "C:\\dir\\"),  # bare: a backslash means itself unless a quote follows
        ("C:\\my dir\\", '"C:\\my dir\\\\"'),  # the closing quote must stay a quote
        ("C:\\my dir\\\\", '"C:\\my dir\\\\\\\\"'),
        ("a\\b c", '"a\\b c"'),  # backslashes inside are not doubled
        ("", '""'),
        ("tab\there", '"tab\there"'),
        ("équipe", '"équipe"'),
    ],
)
def test_arguments_are_quoted_for_cmd(arg: str, written: str) -> None:
    assert cmd_quote(arg) == written
    assert cmd_then_crt(f"C:\\x.exe {written} next") == ["C:\\x.exe", arg, "next"]


def test_every_quotable_character_reaches_the_program_as_is() -> None:
    refused = set('"%!')
    chars = [chr(code) for code in range(0x20, 0x7F) if chr(code) not in refused] + ["\t", "é", "€"]
    for char in chars:
        for value in (char, f"a{char}b", f"{char} {char}", f"x{char}\\", f"\\{char}\\\\", f"^{char}^"):
            for executable in (WINDOWS_EXE, r"C:\cred-export\cred-export.exe"):
                line = command_line(executable, "--profile", value, "--next")
                assert cmd_then_crt(line) == [executable, "--profile", value, "--next"], line
