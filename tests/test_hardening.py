"""The hook stays clean under a real desktop and hostile answers (see docs/reliability.md).

Real parts: a browser process that prints and lingers, the IAM Identity Center stand-in, an
identity provider on 127.0.0.1 that answers with escape sequences, files planted by another
user (the tests run as root in CI, so `chown` can make one).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from harness.loopback import LoopbackServer
from harness.require import require
from harness.sandbox import Sandbox, random_keys, remember_secret

HARNESS = Path(__file__).parent / "harness"
START_URL = "https://corp.awsapps.com/start"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
NOBODY = 65534


def sso_config(box: Sandbox) -> None:
    box.write_aws_config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )


def lingering_browser(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "BROWSER": f"{sys.executable} {HARNESS / 'lingering_browser.py'} %s",
        "BROWSER_LOG": str(tmp_path / "browser.log"),
        "DISPLAY": ":0",
        # The caller's own AWS secrets: never the browser's.
        "AWS_SECRET_ACCESS_KEY": "caller-secret-never-for-browsers",
        "AWS_SESSION_TOKEN": "caller-token-never-for-browsers",
        **extra,
    }


def browser_runs(tmp_path: Path) -> list[dict]:
    log = tmp_path / "browser.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def timed_communicate(process, timeout: float = 60) -> tuple[str, str, float]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    out, err = process.communicate(timeout=timeout)
    return out, err, time.monotonic() - started


# --- 1. A browser never touches the hook's output ---------------------------------------------


def test_a_browser_that_prints_and_lingers_never_reaches_exports_stdout(sso_sandbox, sso, tmp_path):
    sso_config(sso_sandbox)
    sso_sandbox.write_settings('cache = "file"\nlogin_from_export = "auto"\n')
    export = sso_sandbox.popen("--profile", "dev", env=lingering_browser(tmp_path))
    out, err, elapsed = timed_communicate(export)
    assert export.returncode == 0, err
    assert json.loads(out)["Credentials"]["AccessKeyId"]  # exactly one JSON document, nothing else
    assert out.count("\n") == 1 and "browser" not in out.lower() and "noise" not in err
    assert elapsed < 10, f"the pipe stayed open {elapsed:.1f} s: the browser held it"  # it lingers 15 s
    (run,) = browser_runs(tmp_path)
    assert run["secrets"] == []


def test_login_with_a_lingering_browser_ends_at_once(sso_sandbox, sso, tmp_path):
    sso_config(sso_sandbox)
    login = sso_sandbox.popen("login", "--profile", "dev", "--browser", env=lingering_browser(tmp_path))
    out, err, elapsed = timed_communicate(login)
    assert login.returncode == 0, err
    assert "Signed in" in out and "Opening in existing browser session" not in out
    assert elapsed < 10
    assert browser_runs(tmp_path)[0]["secrets"] == []


def test_an_unsafe_sign_in_address_is_never_opened(sandbox, sts, tmp_path):
    with hostile_idp(verification="-oProxyCommand=evil") as idp:
        oidc_profile(sandbox, idp)
        result = sandbox.run(
            "login", "--profile", "corp", "--device-code", "--timeout", "5", env=lingering_browser(tmp_path)
        )
    assert result.code == 4 and "not https://" in result.stderr
    assert browser_runs(tmp_path) == []


# --- 4. login's own flow and timeout, whatever login_from_export says ---------------------------


def test_login_device_code_and_timeout_are_honoured_under_login_from_export_auto(sso_sandbox, sso, tmp_path):
    sso_config(sso_sandbox)
    sso_sandbox.write_settings('cache = "file"\nlogin_from_export = "auto"\nlogin_timeout_seconds = 60\n')
    env = lingering_browser(tmp_path, BROWSER_DOES_NOTHING="1", BROWSER_LINGER="0")
    started = time.monotonic()
    result = sso_sandbox.run("login", "--profile", "dev", "--device-code", "--timeout", "5", env=env)
    assert result.code == 3 and "not completed in time" in result.stderr
    assert time.monotonic() - started < 15
    assert "code" in result.stdout and "user_code=" in result.stdout  # the device flow, not the browser's
    assert all("user_code=" in run["url"] for run in browser_runs(tmp_path))


# --- 5. A credential_process answer without Expiration is not cached ---------------------------


def test_credential_process_without_expiration_runs_every_time(sandbox, sts, tmp_path):
    key_id, secret = random_keys()
    remember_secret(secret)
    counter = tmp_path / "runs"
    script = tmp_path / "process.py"
    script.write_text(
        "import json, pathlib\n"
        f"p = pathlib.Path({str(counter)!r}); p.write_text(p.read_text() + 'x' if p.exists() else 'x')\n"
        f"print(json.dumps({{'Version': 1, 'AccessKeyId': {key_id!r}, 'SecretAccessKey': {secret!r},"
        " 'SessionToken': 'session-token-from-the-process'}))\n"
    )
    remember_secret("session-token-from-the-process")
    sandbox.write_aws_config(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    first, second = (sandbox.run("--profile", "proc") for _ in range(2))
    assert first.code == second.code == 0, first.stderr
    assert first.credentials["AccessKeyId"] == key_id and first.credentials["Expiration"]
    assert counter.read_text() == "xx"  # nothing cached: the process answers every time
    assert sandbox.cached_files() == []


# --- 6. Text from identity services is shown safely ----------------------------------------------


def test_escape_sequences_from_an_identity_provider_never_reach_the_terminal(sandbox, sts, tmp_path):
    hostile = "\x1b[2J\x1b]0;owned\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\u202e"
    with hostile_idp(user_code=f"ABCD{hostile}-EFGH", description=f"denied{hostile}") as idp:
        oidc_profile(sandbox, idp)
        result = sandbox.run(
            "login", "--profile", "corp", "--device-code", "--timeout", "10", env=lingering_browser(tmp_path)
        )
    assert result.code == 3, result.stderr
    assert "ABCD" in result.stdout and "access_denied" in result.stderr and "denied?" in result.stderr
    assert not CONTROL.search(result.stdout) and not CONTROL.search(result.stderr)


def test_a_plain_http_sign_in_address_is_refused(sandbox, sts, tmp_path):
    with hostile_idp(verification="http://evil.example/device") as idp:
        oidc_profile(sandbox, idp)
        result = sandbox.run("login", "--profile", "corp", "--device-code", "--timeout", "5")
    assert result.code == 4 and "not https://" in result.stderr and "evil.example" in result.stderr


# --- 7. Cache files are trusted only when they are the user's ------------------------------------


@pytest.fixture
def as_root() -> None:
    require(os.geteuid() == 0, "planting another user's files needs root (CI runs as root)")


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_cache_directory_others_can_write_is_refused_naming_it(sandbox, sts, tmp_path, mode):
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    shared.chmod(mode)
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("--profile", profile, env={"CRED_EXPORT_CACHE_DIR": str(shared)})
    assert result.code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert str(shared) in line and "writable by others" in line and "CRED_EXPORT_CACHE_DIR" in line
    assert sts.calls == {}


def test_a_cache_directory_owned_by_someone_else_is_refused(sandbox, sts, tmp_path, as_root):
    theirs = tmp_path / "their-cache"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    profile = sandbox.role_chain(depth=1)
    result = sandbox.run("--profile", profile, env={"CRED_EXPORT_CACHE_DIR": str(theirs)})
    assert result.code == 2 and "owned by another user" in result.stderr


@pytest.mark.parametrize("tamper", ["chown", "chmod"])
def test_planted_memo_and_record_are_not_handed_out(sandbox, sts, as_root, tamper):
    profile = sandbox.role_chain(depth=1)
    real = sandbox.run("--profile", profile).credentials
    (record,) = sandbox.cached_files()
    planted = record.read_text().replace(real["AccessKeyId"], "ASIAPLANTEDPLANTED01")
    for path, text in [
        (record, planted),
        *((memo, memo.read_text()) for memo in (sandbox.cache_dir / "memo").iterdir()),
    ]:
        path.write_text(text)
        if tamper == "chown":
            os.chown(path, NOBODY, NOBODY)
        else:
            path.chmod(0o666)
    result = sandbox.run("--profile", profile)
    assert result.code == 0, result.stderr
    assert result.credentials["AccessKeyId"] != "ASIAPLANTEDPLANTED01"
    assert sts.calls["AssumeRole"] == 2  # not trusted: fetched again, and the planted files replaced
    assert sandbox.run("--profile", profile).credentials == result.credentials


def test_a_planted_lock_file_is_replaced_not_used(sandbox, sts, as_root):
    profile = sandbox.role_chain(depth=1)
    sandbox.run("--profile", profile)
    (lock,) = [p for p in (sandbox.cache_dir / "locks").iterdir() if not p.name.startswith("interactive")]
    os.chown(lock, NOBODY, NOBODY)
    sandbox.set_cached_expiry(5 * 60)  # a refresh is due: the lock is taken
    result = sandbox.run("--profile", profile)
    assert result.code == 0, result.stderr
    assert lock.stat().st_uid == os.geteuid()


# --- a hostile identity provider ------------------------------------------------------------------


class hostile_idp:  # a context manager: `with hostile_idp(...) as idp`
    """An OpenID Provider on 127.0.0.1 whose device grant answers with what the test says."""

    def __init__(
        self, *, user_code: str = "WDJB-MJHT", verification: str | None = None, description: str = ""
    ) -> None:
        self.user_code, self.verification, self.description = user_code, verification, description
        self._server = LoopbackServer(self._handler())
        self.url = self._server.url

    def __enter__(self) -> hostile_idp:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._json(200, {
                    "issuer": idp.url,
                    "authorization_endpoint": f"{idp.url}/authorize",
                    "token_endpoint": f"{idp.url}/token",
                    "jwks_uri": f"{idp.url}/jwks",
                    "device_authorization_endpoint": f"{idp.url}/device",
                })  # fmt: skip

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/device":
                    uri = idp.verification or f"{idp.url}/verify?user_code=x"
                    answer = {
                        "device_code": "dc",
                        "user_code": idp.user_code,
                        "expires_in": 60,
                        "interval": 1,
                    }
                    self._json(200, {**answer, "verification_uri": uri, "verification_uri_complete": uri})
                else:
                    self._json(400, {"error": "access_denied", "error_description": idp.description})

            def _json(self, status: int, document: dict) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def oidc_profile(box: Sandbox, idp: hostile_idp) -> None:
    box.write_settings(
        f'cache = "file"\n[profiles.corp]\nsource = "oidc"\nissuer = "{idp.url}"\n'
        'client_id = "c"\nrole_arn = "arn:aws:iam::123456789012:role/r"\n'
    )
