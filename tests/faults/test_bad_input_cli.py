"""Bad input through the installed CLI (a bounded number of runs): a clear line and exit 2, 3 or 4,
never a traceback or exit 1; odd profile names never reach the file system."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from faultkit import assert_one_line, seconds_until, sso_token_path, timed_run, write_sso_config
from harness.sandbox import Sandbox, random_keys, remember_secret
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inputs import any_text, ini_document, json_values, path_tricks

CLI = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EXPECTED_FAILURES = (2, 3, 4)


def assert_clean_outcome(outcome) -> None:  # type: ignore[no-untyped-def]
    """Success, or one line and a documented exit code; never a traceback."""
    assert "Traceback" not in outcome.stderr
    if outcome.code == 0:
        json.loads(outcome.stdout)
        return
    assert outcome.code in EXPECTED_FAILURES, outcome.stderr
    assert outcome.stdout == "" and len(outcome.lines) == 1, outcome.lines


def top_level(box: Sandbox) -> set[Path]:
    return {p for p in box.root.rglob("*") if box.cache_dir not in p.parents}


@CLI
@given(config=ini_document(), credentials=ini_document(), profile=st.one_of(path_tricks, st.just("default")))
def test_random_aws_config_files(sandbox, sts, config, credentials, profile):
    sandbox.write_aws_config(config)
    sandbox.write_credentials(credentials)
    assert_clean_outcome(timed_run(sandbox, "--profile", profile))


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "..", "/abs/path", "a/../../b", "~", "$HOME", "a\nb", "-x"]
)
def test_odd_profile_names_are_unknown_profiles(sandbox, sts, name):
    sandbox.role_chain(depth=1)
    before = top_level(sandbox)
    outcome = timed_run(sandbox, f"--profile={name}")
    assert_one_line(outcome, 2, "not found", "known profiles: base, role1")
    assert top_level(sandbox) - before <= {sandbox.cache_dir.parent, sandbox.cache_dir}


def test_a_profile_whose_name_is_a_path_stays_inside_the_cache(sandbox, sts):
    key_id, secret = random_keys()
    remember_secret(secret)
    name = "../../../escape"
    sandbox.write_credentials(f"[{name}]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
    before = top_level(sandbox)
    outcome = timed_run(sandbox, "--profile", name)
    assert outcome.code == 0, outcome.stderr
    assert top_level(sandbox) - before <= {sandbox.cache_dir.parent, sandbox.cache_dir}
    assert all(p.name.isalnum() for p in sandbox.cached_files())
    assert timed_run(sandbox, "status", "--profile", name).code == 0
    assert timed_run(sandbox, "clear", "--profile", name).code == 0
    assert sandbox.cached_files() == []


@pytest.mark.parametrize(
    "how",
    [
        pytest.param({"args": ("--profile", "caf\udce9")}, id="argv-not-utf8"),
        pytest.param({"env": {"AWS_PROFILE": "caf\udce9"}}, id="env-not-utf8"),
        pytest.param({"args": ("--profile", "p" * 50_000)}, id="very-long"),
        pytest.param({"args": ("--profile", "\u202etxt.exe")}, id="bidi-override"),
    ],
)
def test_profile_names_that_no_config_can_hold(sandbox, sts, how):
    sandbox.role_chain(depth=1)
    outcome = timed_run(sandbox, *how.get("args", ()), env=how.get("env"))
    assert_one_line(outcome, 2, "not found")


@pytest.mark.parametrize(
    "expiry",
    [
        pytest.param("9" * 30, id="beyond-any-clock"),
        pytest.param("\u0661\u0662\u0663", id="arabic-indic-digits"),
        pytest.param("\u00b2", id="superscript-two"),
    ],
)
def test_a_cached_record_with_an_impossible_expiry_is_a_miss(sandbox, sts, expiry):
    profile = sandbox.role_chain(depth=1)
    first = timed_run(sandbox, "--profile", profile)
    (entry,) = sandbox.cached_files()
    lines = entry.read_text().split("\n")
    entry.write_text("\n".join([*lines[:4], expiry, ""]))
    outcome = timed_run(sandbox, "--profile", profile)
    assert outcome.code == 0 and outcome.stderr == "", outcome.stderr
    assert outcome.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert seconds_until(outcome.credentials["Expiration"]) > 3000


def test_a_deeply_nested_sso_token_file_means_sign_in(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    path = sso_token_path(sso_sandbox)
    path.parent.mkdir(parents=True)
    path.write_text(
        '{"accessToken": "a", "expiresAt": "2030-01-01T00:00:00Z", "x": '
        + "[" * 100_000
        + "]" * 100_000
        + "}"
    )
    assert_one_line(timed_run(sso_sandbox, "--profile", "dev"), 3, "sign-in required")


@pytest.mark.parametrize(
    "table, needle",
    [
        ('preset = []\nissuer = "https://idp.example.com"\nclient_id = "c"\nrole_arn = "r"\n', "preset"),
        ('issuer = 5\nclient_id = "c"\nrole_arn = "r"\n', "issuer must be a string"),
        (
            'issuer = "https://idp.example.com"\nclient_id = "c"\nrole_arn = "r"\nscopes = "openid"\n',
            "scopes",
        ),
        (
            'issuer = "https://idp.example.com"\nclient_id = "c"\nrole_arn = "r"\nredirect_port = 70000\n',
            "redirect_port",
        ),
    ],
    ids=["preset-is-a-list", "issuer-is-a-number", "scopes-is-a-string", "port-out-of-range"],
)
def test_wrong_types_in_an_idp_profile(sandbox, sts, table, needle):
    sandbox.write_settings(f'cache = "file"\n[profiles.corp]\nsource = "oidc"\n{table}')
    assert_one_line(timed_run(sandbox, "--profile", "corp"), 2, needle)


# --- Claude Code's settings.json, through `setup claude` ---------------------------------------

_strict_json_objects = st.dictionaries(
    any_text,
    json_values.filter(lambda v: not _has_non_finite(v)),
    max_size=5,
)


def _has_non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    return False


def _strict_loads(text: str) -> object:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def setup_box(sandbox: Sandbox) -> Sandbox:
    sandbox.write_credentials()
    sandbox.write_aws_config(
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n"
        "region = eu-west-1\n"
    )
    return sandbox


def _settings_path(box: Sandbox) -> Path:
    path = box.home / ".claude" / "settings.json"
    path.parent.mkdir(exist_ok=True)
    return path


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_strict_json_objects)
def test_setup_merges_into_any_json_object_or_leaves_it_alone(setup_box, document):
    path = _settings_path(setup_box)
    original = json.dumps(document, indent=2)
    path.write_text(original)
    outcome = timed_run(setup_box, "setup", "claude", "-p", "dev")
    assert outcome.code in (0, 2) and "Traceback" not in outcome.stderr, outcome.stderr
    if outcome.code == 2:
        assert len(outcome.lines) == 1 and path.read_text() == original
        return
    merged = _strict_loads(path.read_text())
    assert {k: v for k, v in merged.items() if k not in ("awsCredentialExport", "awsAuthRefresh", "env")} == {
        k: v for k, v in document.items() if k not in ("awsCredentialExport", "awsAuthRefresh", "env")
    }


def test_setup_with_a_lone_surrogate_in_settings_json(setup_box):
    _settings_path(setup_box).write_text('{"env": {"A": "\\ud800"}}')
    result = timed_run(setup_box, "setup", "claude", "-p", "dev")
    assert result.code == 2 and "surrogate" in result.stderr


def test_setup_never_turns_valid_json_into_invalid_json(setup_box):
    path = _settings_path(setup_box)
    path.write_text('{"limit": 1e999}')
    result = timed_run(setup_box, "setup", "claude", "-p", "dev")
    assert result.code == 2 and "out of range" in result.stderr  # refused, file untouched
    _strict_loads(path.read_text())
