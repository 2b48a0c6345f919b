"""Helpers shared by the fault suite: seeding caches, timing runs, reading outcomes."""

from __future__ import annotations

import json
import secrets
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.require import require
from harness.sandbox import Sandbox, remember_secret

START_URL = "https://corp.awsapps.com/start"
ROLE_ARN = "arn:aws:iam::123456789012:role/bedrock"

_SEED = """
import sys, time
from cred_export.credentials import Credentials
from cred_export.flows.export import resolve
from cred_export.settings import load_settings
from cred_export.stores.file_store import FileStore
profile, key_id, secret, token, seconds = sys.argv[1:6]
chain = resolve(profile, True, load_settings())
FileStore().put(chain.cache_key(), Credentials(key_id, secret, token, time.time() + float(seconds)))
"""


@dataclass
class Outcome:
    """A finished cred-export run: exit code, output, and how long it took."""

    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()

    @property
    def credentials(self) -> dict[str, str]:
        return json.loads(self.stdout)["Credentials"]


def random_token(length: int = 64) -> str:
    value = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))
    remember_secret(value)
    return value


def sandbox_python(box: Sandbox, code: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `code` with the installed package inside the sandbox's environment; its stdout."""
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**box.env, **(env or {})},
        cwd=box.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout


_OIDC_REFRESH_KEY = """
from cred_export.idp.oidc_session import _key
from cred_export.idp.profiles import parse_oidc
from cred_export.settings import load_settings
print(_key(parse_oidc("corp", load_settings().profiles["corp"]), "refresh"))
"""


def oidc_box(root: Path, sts_url: str, issuer: str) -> Sandbox:
    """An OIDC profile `corp` with a stored refresh token: its renewal starts with the IdP's discovery."""
    box = Sandbox(root, sts_url)
    box.write_settings(
        f'cache = "file"\n[profiles.corp]\nsource = "oidc"\nissuer = "{issuer}"\n'
        f'client_id = "cred-export-test"\nrole_arn = "{ROLE_ARN}"\n'
    )
    key = sandbox_python(box, _OIDC_REFRESH_KEY).strip()
    store = box.cache_dir / "credentials"
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    (store / key).write_text(random_token())
    (store / key).chmod(0o600)
    return box


def seed_cached(box: Sandbox, profile: str, seconds_left: float, env: dict[str, str] | None = None) -> dict:
    """Put credentials expiring in `seconds_left` in the file store for `profile`; returns them."""
    key_id = "ASIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    secret, token = random_token(40), random_token(200)
    remember_secret(key_id)
    sandbox_python(box, _SEED, profile, key_id, secret, token, str(seconds_left), env=env)
    return {"AccessKeyId": key_id, "SecretAccessKey": secret, "SessionToken": token}


def timed_run(box: Sandbox, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Outcome:
    started = time.monotonic()
    result = box.run(*args, env=env, timeout=timeout)
    return Outcome(result.code, result.stdout, result.stderr, time.monotonic() - started)


class Launch:
    """A cred-export process started now and waited for on its own thread."""

    def __init__(self, box: Sandbox, *args: str, env: dict[str, str] | None = None) -> None:
        self.started = time.monotonic()
        self.process = box.popen(*args, env=env)
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        try:
            out, err = self.process.communicate(timeout=150)
        except BaseException as exc:  # the leak check fails here, or the process overran
            self.process.kill()
            self.error = exc
            return
        self.outcome = Outcome(self.process.returncode, out, err, time.monotonic() - self.started)

    def result(self) -> Outcome:
        self._thread.join(160)
        if self.error is not None:
            raise self.error
        assert self.outcome is not None, "the process did not finish"
        return self.outcome


def seconds_until(iso: str) -> float:
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return moment.timestamp() - time.time()


def write_sso_config(box: Sandbox) -> None:
    box.write_aws_config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )


def sso_token_path(box: Sandbox):  # type: ignore[no-untyped-def]
    import hashlib

    return box.home / ".aws" / "sso" / "cache" / (hashlib.sha1(b"corp").hexdigest() + ".json")


def seed_sso_token(box: Sandbox, sso, access_ttl: int = 3600) -> dict:  # type: ignore[no-untyped-def]
    """A signed-in SSO session in the AWS CLI token cache, as a completed login leaves it."""
    token = sso.seed_token(start_url=START_URL, access_ttl=access_ttl)
    for field in ("accessToken", "refreshToken", "clientSecret"):
        remember_secret(token[field])
    path = sso_token_path(box)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(json.dumps(token))
    path.chmod(0o600)
    return token


def assert_one_line(outcome: Outcome, code: int, *needles: str) -> str:
    """The run exited `code` with exactly one stderr line holding every needle, and no traceback."""
    assert outcome.code == code, outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert len(outcome.lines) == 1, outcome.lines
    for needle in needles:
        assert needle in outcome.lines[0], outcome.lines[0]
    return outcome.lines[0]


# Capabilities that let root ignore file permissions; without them a 0500 directory is read-only
# for root too.
_DAC_CAPABILITIES = "-dac_override,-dac_read_search,-fowner"


def without_permission_override() -> list[str]:
    """A command prefix under which file permissions bind (root drops its override capabilities)."""
    import os
    import shutil

    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    require(setpriv is not None, "running as root without setpriv: permissions cannot be made to bind")
    return [setpriv, f"--bounding-set={_DAC_CAPABILITIES}", "--"]


def no_file_writes() -> None:
    """preexec_fn: every write to a regular file fails (EFBIG), as on a full disk."""
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def restricted_run(
    box: Sandbox,
    *args: str,
    env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
    preexec: Callable[[], None] | None = None,
    timeout: float = 60,
) -> Outcome:
    """Like `Sandbox.run` (leak checks included), under a command prefix or a resource limit."""
    from harness.sandbox import EXECUTABLE, learn_secrets

    before = box.file_identities(env)
    started = time.monotonic()
    completed = subprocess.run(
        [*(prefix or []), EXECUTABLE, *args],
        env={**box.env, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
    )
    outcome = Outcome(completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)
    learn_secrets(outcome.stdout)
    box.check_for_leaks(outcome.stderr, before, env)
    return outcome
