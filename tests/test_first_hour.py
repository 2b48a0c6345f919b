"""A newcomer's first hour, as the README walks it: help, setup, doctor, an SSO sign-in, the
usual mistakes, a machine without an OS keyring and a read-only HOME — each against the
installed program, in a HOME of its own, with the stand-ins on 127.0.0.1.

The read-only HOME is a read-only bind mount in a private mount namespace (`unshare -m`):
a chmod would not stop root, which these tests may run as. `read_only_home` checks that a write
there really fails before any test relies on it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.bedrock_server import BedrockServer
from harness.require import require
from harness.sandbox import EXECUTABLE, Result, Sandbox, learn_secrets, read_until_url

README = Path(__file__).parent.parent / "README.md"
START_URL = "https://corp.awsapps.com/start"
REMOUNT_READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'


@pytest.fixture(scope="module")
def _bedrock_server() -> Iterator[BedrockServer]:
    server = BedrockServer()
    yield server
    server.close()


@pytest.fixture
def newcomer(tmp_path: Path, sts, _bedrock_server: BedrockServer) -> Sandbox:  # type: ignore[no-untyped-def]
    """A fresh HOME with no cred-export settings at all and no Secret Service (no D-Bus)."""
    _bedrock_server.reset()
    box = Sandbox(tmp_path, sts.url, {"AWS_ENDPOINT_URL_BEDROCK": _bedrock_server.url})
    box.env["CRED_EXPORT_CLAUDE_MANAGED_SETTINGS"] = str(tmp_path / "managed-settings.json")
    return box


def run(box: Sandbox, *args: str, cwd: Path | None = None, read_only: bool = False) -> Result:
    """The installed cred-export in the sandbox (from `cwd`, else the sandbox root), with the
    sandbox's leak checks; with `read_only`, HOME is mounted read-only for the run."""
    prefix = ["unshare", "-m", "sh", "-c", REMOUNT_READ_ONLY, str(box.home)] if read_only else []
    before = box.file_identities()
    completed = subprocess.run(
        [*prefix, EXECUTABLE, *args],
        env=box.env,
        cwd=cwd or box.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    learn_secrets(result.stdout)
    box.check_for_leaks(result.stderr, before)
    return result


@pytest.fixture
def read_only_home(newcomer: Sandbox) -> Sandbox:
    """The newcomer's sandbox, after checking that a read-only mount of HOME stops a write."""
    require(shutil.which("unshare") is not None, "no unshare(1): cannot mount HOME read-only")
    probe = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            REMOUNT_READ_ONLY,
            str(newcomer.home),
            "touch",
            str(newcomer.home / "p"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    require(
        "Read-only file system" in probe.stderr,
        f"cannot mount HOME read-only here: {probe.stderr.strip()[:120]}",
    )
    assert probe.returncode != 0 and not (newcomer.home / "p").exists()
    return newcomer


def static_role(box: Sandbox, profile: str = "bedrock", region: str = "eu-west-1") -> str:
    """The README's first profile: static keys (`base`) → one role."""
    box.write_credentials()
    box.write_aws_config(
        f"[profile {profile}]\nrole_arn = arn:aws:iam::123456789012:role/bedrock\n"
        f"source_profile = base\nregion = {region}\n"
    )
    return profile


def sso_profile(box: Sandbox, sso_url: str) -> str:
    box.env["AWS_ENDPOINT_URL_SSO"] = sso_url
    box.env["AWS_ENDPOINT_URL_SSO_OIDC"] = sso_url
    with open(box.home / ".aws" / "config", "a") as config:
        config.write(
            "[profile sso-dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
            f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
            "sso_registration_scopes = sso:account:access\n"
        )
    return "sso-dev"


def in_readme(line: str) -> bool:
    """Whether the README quotes `line` exactly (its own line breaks read as spaces)."""
    return " ".join(line.split()) in " ".join(README.read_text().split())


def user_settings(box: Sandbox) -> dict:
    return json.loads((box.home / ".claude" / "settings.json").read_text())


def doctor_line(result: Result, check_id: str) -> str:
    (line,) = [line for line in result.stdout.splitlines() if line.split()[1:2] == [check_id]]
    return line


# --- the walk-through ------------------------------------------------------------------------


def test_first_hour_walk_through(newcomer, sts, sso):  # type: ignore[no-untyped-def]
    box = newcomer
    # Installed (the tests run the installed console script, as `pipx install .` leaves it).
    version = run(box, "--version")
    assert version.code == 0 and version.stdout.startswith("cred-export, version ")
    # Help: the commands, and the options of the hook's own (default) command.
    help_text = run(box, "--help")
    assert help_text.code == 0
    assert "-p, --profile NAME" in help_text.stdout and "-f, --format" in help_text.stdout
    assert "setup" in help_text.stdout and "doctor" in help_text.stdout

    # Set up Claude Code for the profile, as the README's first example does.
    profile = static_role(box)
    setup = run(box, "setup", "claude", "--profile", profile, "--region", "us-east-1")
    assert setup.code == 0, setup.stderr
    (written,) = setup.stderr.splitlines()
    assert "Claude Code runs awsAuthRefresh at every start when its own AWS SDK cannot resolve" in written
    assert user_settings(box)["awsCredentialExport"] == f"{EXECUTABLE} --profile {profile}"

    # The README's guardrail example: profile and region are kept, and it says so.
    guardrail = run(box, "setup", "claude", "--guardrail", "abc123xyz456:1")
    assert guardrail.code == 0, guardrail.stderr
    assert f"; kept profile {profile} and region us-east-1 from it" in guardrail.stderr
    settings = user_settings(box)
    assert settings["awsCredentialExport"].endswith(f"--profile {profile}")
    assert settings["env"]["AWS_REGION"] == "us-east-1"
    assert "X-Amzn-Bedrock-GuardrailIdentifier: abc123xyz456" in settings["env"]["ANTHROPIC_CUSTOM_HEADERS"]

    # The hook, on a machine without a Secret Service: the file store is chosen once, said once.
    first = run(box, "--profile", profile)
    assert first.code == 0 and first.credentials["AccessKeyId"].startswith("ASIA")
    (note,) = first.stderr.splitlines()
    assert "no OS keyring" in note and "from now on" in note
    assert "~/.config/cred-export/config.toml" in note
    assert in_readme(note)  # the README quotes it word for word
    assert (box.cache_dir / "store-choice").is_file()
    for _ in range(2):
        again = run(box, "--profile", profile)
        assert again.code == 0 and again.stderr == ""
    assert sts.calls["AssumeRole"] == 1

    # doctor, from the home directory: one user layer, the chosen file store, all good.
    report = run(box, "doctor", cwd=box.home)
    assert report.code == 0, report.stdout
    assert "chosen once because this machine has no OS keyring" in doctor_line(report, "keyring")
    wiring = doctor_line(report, "claude-code")
    assert "settings: user ~/.claude/settings.json;" in wiring and "project" not in wiring
    assert report.stdout.splitlines()[-1].endswith("all good")

    # An SSO sign-in with the device code, against the IAM Identity Center stand-in.
    sso_name = sso_profile(box, sso.url)
    login = box.popen("login", "--profile", sso_name, "--device-code")
    urllib.request.urlopen(read_until_url(login, "user_code="), timeout=10).read()
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert "Signed in" in out
    exported = run(box, "--profile", sso_name)
    assert exported.code == 0 and exported.stderr == ""


# --- the mistakes -------------------------------------------------------------------------------


def test_a_mistyped_command_names_the_closest_one(newcomer):  # type: ignore[no-untyped-def]
    result = run(newcomer, "statsu")
    assert result.code == 2 and result.stdout == ""
    assert result.stderr == (
        "cred-export: No such command 'statsu'. Did you mean 'status'? (see cred-export --help)\n"
    )
    assert in_readme(result.stderr.strip())
    after_options = run(newcomer, "--profile", "p", "statsu")
    assert after_options.code == 2 and after_options.stderr == result.stderr
    unknown = run(newcomer, "frobnicate")
    assert unknown.code == 2 and "No such command 'frobnicate'." in unknown.stderr
    assert "Did you mean" not in unknown.stderr


def test_the_export_options_may_come_before_a_command(newcomer, sts):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    result = run(newcomer, "--profile", profile, "status")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[2] == profile  # only that profile: the option reached status
    assert run(newcomer, "-p", "nope", "status").stderr.startswith("cred-export: profile 'nope' not found")


def test_setup_warns_about_an_executable_that_does_not_exist(newcomer):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    missing = "/usr/bin/cred-exprot"
    args = ("setup", "claude", "--profile", profile, "--region", "us-east-1", "--executable", missing)
    result = run(newcomer, *args)
    assert result.code == 0
    assert f"cred-export: warning: --executable {missing} does not exist on this machine" in result.stderr
    managed = run(newcomer, *args, "--managed")
    assert managed.code == 0 and "warning" not in managed.stderr  # the image's path, not this machine's


def test_doctor_keeps_the_hooks_profile_and_says_the_executable_is_not_found(newcomer):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    result = run(
        newcomer, "setup", "claude", "--profile", profile, "--region", "us-east-1",
        "--executable", "/usr/bin/cred-exprot",
    )  # fmt: skip
    assert result.code == 0
    report = json.loads(run(newcomer, "doctor", "--json").stdout)
    found = {check["id"]: check for check in report["checks"]}
    assert report["profile"] == profile  # the hook's own --profile, not `default`
    assert found["profile"]["verdict"] == "ok"
    assert found["claude-code"]["verdict"] == "warn"
    assert found["claude-code"]["fix"] == (
        "awsCredentialExport's executable /usr/bin/cred-exprot not found:"
        f" run cred-export setup claude --profile {profile}"
    )


def test_doctor_for_another_profile_says_the_hook_uses_a_different_one(newcomer):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    assert run(newcomer, "setup", "claude", "--profile", profile, "--region", "us-east-1").code == 0
    with open(newcomer.home / ".aws" / "config", "a") as config:
        config.write(
            "[profile other]\nrole_arn = arn:aws:iam::123456789012:role/other\nsource_profile = base\n"
        )
    report = json.loads(run(newcomer, "doctor", "--json", "--profile", "other").stdout)
    (wiring,) = [check for check in report["checks"] if check["id"] == "claude-code"]
    assert wiring["verdict"] == "warn"
    assert wiring["fix"] == (
        f"awsCredentialExport uses profile {profile}, not other: run cred-export setup claude --profile other"
    )


def test_doctor_fixes_are_setup_commands(newcomer):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    report = json.loads(run(newcomer, "doctor", "--json", "--profile", profile).stdout)
    found = {check["id"]: check for check in report["checks"]}
    assert found["region"]["fix"] == f"run cred-export setup claude --profile {profile} --region eu-west-1"
    assert found["claude-code"]["fix"].endswith(f": run cred-export setup claude --profile {profile}")
    assert "settings.json" not in found["claude-code"]["fix"]


def test_doctor_fixes_a_bare_model_in_user_settings_with_a_setup_command(newcomer, sts):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    bare = "anthropic.claude-sonnet-4-6"
    setup = run(newcomer, "setup", "claude", "--profile", profile, "--region", "us-east-1", "--model", bare)
    assert setup.code == 0 and "on-demand throughput isn't supported" in setup.stderr
    report = json.loads(run(newcomer, "doctor", "--json").stdout)
    (model,) = [check for check in report["checks"] if check["id"] == "model"]
    assert model["verdict"] == "fail"
    assert model["fix"] == (
        f"run cred-export setup claude --profile {profile} --model global.{bare}"
        " (or another inference profile listed)"
    )


def test_errors_name_the_section_or_the_profile_at_fault(newcomer):  # type: ignore[no-untyped-def]
    newcomer.write_aws_config(
        "[profile s2]\nsso_session = nor\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        "[sso-session nor]\nsso_start_url = https://nor.awsapps.com/start\n"
        "[profile r1]\nrole_arn = arn:aws:iam::123456789012:role/r1\nsource_profile = nosuchsource\n"
    )
    config = newcomer.home / ".aws" / "config"
    session = run(newcomer, "--profile", "s2")
    assert session.code == 2
    assert session.stderr == (
        f"cred-export: [sso-session nor] in {config} is missing sso_region (used by profile 's2')\n"
    )
    dangling = run(newcomer, "--profile", "r1")
    assert dangling.code == 2
    assert dangling.stderr.startswith(
        "cred-export: profile 'r1' has source_profile = nosuchsource, but profile 'nosuchsource' not found"
    )


def seed_expired_token(box: Sandbox, sso) -> Path:  # type: ignore[no-untyped-def]
    """An SSO token that expired on 2020-01-01, with a refresh token that still works."""
    token = {**sso.seed_token(start_url=START_URL), "expiresAt": "2020-01-01T00:00:00Z"}
    path = box.home / ".aws" / "sso" / "cache" / (hashlib.sha1(b"corp").hexdigest() + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token))
    return path


def test_past_times_read_as_past(newcomer, sso, sts):  # type: ignore[no-untyped-def]
    newcomer.write_settings('cache = "file"\n')
    name = sso_profile(newcomer, sso.url)
    seed_expired_token(newcomer, sso)
    status = run(newcomer, "status", "--profile", name)
    assert status.code == 0, status.stderr
    (line,) = [line for line in status.stdout.splitlines() if "sso session:" in line]
    assert re.fullmatch(r"  sso session: expired \d+ days ago \(at 2020-01-01T00:00:00Z\), renewable", line)
    debug = run(newcomer, "--profile", name, "--debug")
    assert debug.code == 0, debug.stderr
    assert not re.search(r"\(-\d+ min left\)", debug.stderr)
    assert re.search(r"renewing the SSO token for \S+ \(expired \d+ days ago\)", debug.stderr)


def test_a_login_that_times_out_does_not_say_run_login(newcomer, sso):  # type: ignore[no-untyped-def]
    newcomer.write_settings('cache = "file"\n')
    name = sso_profile(newcomer, sso.url)
    result = run(newcomer, "login", "--profile", name, "--device-code", "--timeout", "5")
    assert result.code == 3
    (line,) = result.stderr.splitlines()
    assert line == (
        f"cred-export: the sign-in for profile {name} was not completed in time: try again, with"
        " --timeout SECONDS for longer"
    )
    newcomer.env["BROWSER"] = "true %s"  # a browser that opens and is never used
    in_browser = run(newcomer, "login", "--profile", name, "--browser", "--timeout", "5")
    assert in_browser.code == 3
    (line,) = in_browser.stderr.splitlines()
    assert line.endswith("for longer or --device-code to sign in on another device")
    assert in_readme(line.replace(name, "P"))


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("login_timeout_seconds = 3000", None),
        (
            "login_timeout_seconds = 4000",
            "login_timeout_seconds must be at least 5 and at most 3600 (seconds)",
        ),
        ("login_timeout_seconds = 2", "login_timeout_seconds must be at least 5 and at most 3600 (seconds)"),
        (
            "refresh_ahead_minutes = 1441",
            "refresh_ahead_minutes must be more than 0 and at most 1440 (minutes)",
        ),
        ("lock_timeout_seconds = 0", "lock_timeout_seconds must be more than 0 and at most 3600 (seconds)"),
    ],
)
def test_setting_ranges_match_the_options_and_name_their_unit(newcomer, sts, setting, complaint):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    newcomer.write_settings(f'cache = "file"\n{setting}\n')
    result = run(newcomer, "--profile", profile)
    if complaint is None:
        assert result.code == 0, result.stderr
    else:
        assert result.code == 2 and result.stderr.endswith(f": {complaint}\n")


def test_managed_settings_create_their_missing_folder(newcomer):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    target = newcomer.root / "etc" / "claude-code" / "managed-settings.json"
    result = run(
        newcomer, "setup", "claude", "--managed", "--profile", profile, "--region", "us-east-1",
        "-o", str(target),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"cred-export: wrote {target} (created its folder {target.parent});")
    assert json.loads(target.read_text())["env"]["AWS_REGION"] == "us-east-1"


def test_doctor_fails_when_the_cache_cannot_be_written(newcomer):  # type: ignore[no-untyped-def]
    profile = static_role(newcomer)
    blocked = newcomer.root / "not-a-folder"
    blocked.write_text("")
    newcomer.env["CRED_EXPORT_CACHE_DIR"] = str(blocked / "cache")
    newcomer.write_settings('cache = "file"\n')
    report = json.loads(run(newcomer, "doctor", "--json", "--profile", profile).stdout)
    (keyring,) = [check for check in report["checks"] if check["id"] == "keyring"]
    assert keyring["verdict"] == "fail" and not report["ok"]
    assert keyring["detail"].startswith(f"cannot write {blocked / 'cache'}: Not a directory")


# --- a read-only HOME ------------------------------------------------------------------------------


def test_login_on_a_read_only_home_stops_before_the_sign_in(read_only_home, sso):  # type: ignore[no-untyped-def]
    box = read_only_home
    name = sso_profile(box, sso.url)
    result = run(box, "login", "--profile", name, "--device-code", read_only=True)
    assert result.code == 2 and result.stdout == ""  # no URL, no code: nothing to sign in to
    *_keyring_note, line = result.stderr.splitlines()  # the file store cannot be chosen for good here
    assert re.fullmatch(
        rf"cred-export: cannot write {re.escape(str(box.home))}/\.aws/sso/cache/[0-9a-f]{{40}}\.json:"
        r" Read-only file system; the sign-in was not started",
        line,
    ), line
    assert sum(sso.calls.values()) == 0


def test_console_login_on_a_read_only_home_stops_before_the_browser(read_only_home, signin, tmp_path):  # type: ignore[no-untyped-def]
    box = read_only_home
    box.env["AWS_ENDPOINT_URL_SIGNIN"] = signin.url
    box.env["BROWSER"] = f"touch {tmp_path / 'browser-opened'}"
    box.write_aws_config("[profile dev]\nlogin_session =\nregion = us-east-1\n")
    result = run(box, "login", "--profile", "dev", read_only=True)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"cred-export: cannot write {box.home}/.aws/login/cache/: Read-only file system;"
        " the sign-in was not started"
    )
    assert not (tmp_path / "browser-opened").exists()
    assert sum(signin.grants.values()) == 0


def test_renewal_on_a_read_only_home_still_answers_and_names_the_file(read_only_home, sso, sts):  # type: ignore[no-untyped-def]
    """A silent SSO renewal that cannot keep its new token still hands out credentials, and says
    which file it could not write."""
    box = read_only_home
    name = sso_profile(box, sso.url)
    path = seed_expired_token(box, sso)
    result = run(box, "--profile", name, read_only=True)
    assert result.code == 0, result.stderr
    assert result.credentials["AccessKeyId"].startswith("ASIA")
    assert (
        f"cred-export: warning: could not save the renewed SSO token to {path}: Read-only file system"
        in result.stderr.splitlines()
    )


def test_setup_on_a_read_only_home_names_settings_json(read_only_home):  # type: ignore[no-untyped-def]
    box = read_only_home
    profile = static_role(box)
    (box.home / ".claude").mkdir()
    (box.home / ".claude" / "settings.json").write_text("{}\n")
    result = run(box, "setup", "claude", "--profile", profile, "--region", "us-east-1", read_only=True)
    assert result.code == 2
    assert result.stderr == (
        f"cred-export: cannot write {box.home / '.claude' / 'settings.json'}: Read-only file system\n"
    )


def test_doctor_on_a_read_only_home_says_nothing_can_be_cached(read_only_home):  # type: ignore[no-untyped-def]
    box = read_only_home
    profile = static_role(box)
    report = run(box, "doctor", "--profile", profile, read_only=True)
    assert report.code == 1
    line = doctor_line(report, "keyring")
    assert line.startswith("fail  keyring")
    assert "cannot write ~/.cache/cred-export: Read-only file system" in line


def test_export_on_a_read_only_home_still_answers(read_only_home, sts):  # type: ignore[no-untyped-def]
    box = read_only_home
    profile = static_role(box)
    result = run(box, "--profile", profile, read_only=True)
    assert result.code == 0, result.stderr
    assert result.credentials["AccessKeyId"].startswith("ASIA")


# --- the README's exit-code table -------------------------------------------------------------


def exit_code_samples() -> dict[int, str]:
    """code → the sample stderr line in the README's exit-code table."""
    section = README.read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d) \| [^|]+ \| `([^`]+)` \|$", section, flags=re.MULTILINE)
    return {int(code): sample for code, sample in rows}


def matches(sample: str, line: str) -> bool:
    """Whether a real line is the sample, `…` standing for any text."""
    pattern = ".+".join(re.escape(part) for part in sample.split("…"))
    return re.fullmatch(pattern, line) is not None


def real_line(code: int, box: Sandbox, sts) -> str:  # type: ignore[no-untyped-def]
    """The stderr line of a real run that exits with `code`, staged as the README's sample."""
    box.write_settings('cache = "file"\n')
    box.write_credentials()
    role = "[profile p]\nrole_arn = arn:aws:iam::123456789012:role/p\nsource_profile = base\n"
    env: dict[str, str] = {}
    if code == 0:  # a refresh refused while the cached credentials have 8 minutes left
        box.write_aws_config(role)
        assert run(box, "--profile", "p").code == 0
        box.set_cached_expiry(8 * 60 + 30)
        sts.fault = "AccessDenied"
    elif code == 1:  # something nobody planned for: a malformed endpoint URL botocore chokes on
        box.write_aws_config(role)
        env["AWS_ENDPOINT_URL_STS"] = "http://[::1"
    elif code == 2:
        box.write_aws_config("[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n")
        (box.home / ".aws" / "credentials").unlink()
    elif code == 3:
        box.write_aws_config(role + "mfa_serial = arn:aws:iam::123456789012:mfa/me\n")
    elif code == 4:
        box.write_aws_config(role)
        sts.fault = "AccessDenied"
    box.env.update(env)
    result = run(box, "--profile", "x" if code == 2 else "p")
    assert result.code == code, result.stderr
    (line,) = result.stderr.splitlines()
    return line


def test_the_readme_exit_code_samples_are_real_lines(tmp_path, sts):  # type: ignore[no-untyped-def]
    samples = exit_code_samples()
    assert sorted(samples) == [0, 1, 2, 3, 4]
    for code, sample in samples.items():
        box = Sandbox(tmp_path / str(code), sts.url)
        sts.reset()
        line = real_line(code, box, sts)
        assert matches(sample, line), f"exit {code}: README says {sample!r}, the program says {line!r}"


def test_a_failed_write_names_the_file_not_its_temp_file(tmp_path):  # type: ignore[no-untyped-def]
    from cred_export import files

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    target = blocked / "settings.json"
    for write in (
        lambda: files.write_atomic(target, b"{}", 0o644),
        lambda: files.write_private(str(target), ""),
    ):
        with pytest.raises(files.WriteFailed) as failure:
            write()
        assert failure.value.filename == str(target) and failure.value.strerror == "Not a directory"
    assert files.unwritable(str(target)) == "Not a directory"
    assert files.unwritable(str(tmp_path / "new" / "deeper" / "x.json")) is None


def test_an_unexpected_error_shows_its_message_but_no_secret() -> None:
    from cred_export.util.text import describe_exception

    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    shown = describe_exception(
        ValueError(f"proxy http://bob:hunter2@proxy:8080 refused; aws_secret_access_key = x; {secret}")
    )
    assert shown == "ValueError: proxy http://bob:****@proxy:8080 refused; aws_secret_access_key = ****; ****"
    assert describe_exception(ValueError("Invalid IPv6 URL")) == "ValueError: Invalid IPv6 URL"
    path = "/Users/JohnSmith2/Library/Caches/cred-export/credentials/0123abcd"
    assert describe_exception(OSError(f"cannot open {path}")) == f"OSError: cannot open {path}"
