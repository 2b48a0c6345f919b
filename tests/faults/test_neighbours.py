"""Other processes and other users around the files cred-export shares with the AWS CLI.

- A FIFO where a session file belongs is refused without being opened for a blocking read.
- A session file another local user planted (a shared `AWS_LOGIN_CACHE_DIRECTORY`, a home on
  shared storage), or one that group or others may write, is not trusted: sign in instead.
  The other user is real: the file is written by uid 65534 through `setpriv`.
- A session file caught half-written by the AWS CLI (which rewrites it in place) is read again.
- A process killed at the rename of a session file or a cache entry leaves a temporary file
  with the new secrets: `clear` removes it. The SIGKILL lands exactly there
  (tests/harness/kill_at_rename).
- `clear --session-files` during a renewal waits for it, so the renewal cannot revive the file.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import (
    restricted_run,
    seed_sso_token,
    sso_token_path,
    write_sso_config,
)
from faulty import FaultyUpstream
from harness.require import require
from harness.sandbox import Sandbox

NOBODY = 65534
RUN_BOUND = 30.0  # a refused file means "sign in": no network, no wait


def _console(box: Sandbox, signin, cache_dir: Path | None = None, **kwargs) -> Path:  # type: ignore[no-untyped-def]
    return signin.new_session(
        cache_dir or box.home / ".aws" / "login" / "cache",
        config_file=box.home / ".aws" / "config",
        profile="dev",
        **kwargs,
    )


def _sso_box(tmp_path: Path, sts_url: str, sso, oidc_url: str | None = None) -> Sandbox:  # type: ignore[no-untyped-def]
    box = Sandbox(
        tmp_path, sts_url, {"AWS_ENDPOINT_URL_SSO": sso.url, "AWS_ENDPOINT_URL_SSO_OIDC": oidc_url or sso.url}
    )
    box.write_settings('cache = "file"\n')
    write_sso_config(box)
    return box


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every local user may write to (mode 1777, as /tmp), reachable by all."""
    path = Path(tempfile.mkdtemp(prefix="cred-export-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _as_another_user(path: Path, text: str) -> None:
    """Write `path` (0600) as uid 65534, through setpriv: a file another local user owns."""
    setpriv = shutil.which("setpriv")
    require(setpriv is not None and os.geteuid() == 0, "needs root and setpriv to act as another local user")
    subprocess.run(
        [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
         "sh", "-c", 'umask 077 && cat > "$1"', "sh", str(path)],
        input=text,
        text=True,
        check=True,
        timeout=30,
    )  # fmt: skip
    assert path.stat().st_uid == NOBODY


def _replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path, 0o600)


# --- non-regular files ---------------------------------------------------------------------------


def test_a_fifo_for_the_aws_login_session_file_is_refused_without_blocking(console_sandbox, signin):
    _replace_with_fifo(_console(console_sandbox, signin))
    result = console_sandbox.run("--profile", "dev", timeout=RUN_BOUND)
    assert result.code == 3, result.stderr
    assert "not this user's own file" in result.stderr and "Traceback" not in result.stderr


def test_a_fifo_for_the_sso_token_file_is_refused_without_blocking(tmp_path, sts, sso):
    box = _sso_box(tmp_path, sts.url, sso)
    seed_sso_token(box, sso)
    _replace_with_fifo(sso_token_path(box))
    result = box.run("--profile", "dev", timeout=RUN_BOUND)
    assert result.code == 3, result.stderr
    assert "Traceback" not in result.stderr


# --- files of another user, or that others may write --------------------------------------------


def test_an_aws_login_session_planted_by_another_user_is_not_used(tmp_path, sts, signin, shared_dir):
    box = Sandbox(
        tmp_path,
        sts.url,
        {"AWS_ENDPOINT_URL_SIGNIN": signin.url, "AWS_LOGIN_CACHE_DIRECTORY": str(shared_dir)},
    )
    box.write_settings('cache = "file"\n')
    path = _console(box, signin, shared_dir)
    planted = path.read_text()
    path.unlink()
    _as_another_user(path, planted)

    refused = box.run("--profile", "dev", timeout=RUN_BOUND)
    assert refused.code == 3 and refused.stdout == "", refused.stderr
    assert str(path) in refused.stderr

    path.unlink()  # the control: the very same session, written by this user, is used
    path.write_text(planted)
    path.chmod(0o600)
    used = box.run("--profile", "dev", timeout=RUN_BOUND)
    assert used.code == 0, used.stderr
    assert used.credentials["AccessKeyId"] == json.loads(planted)["accessToken"]["accessKeyId"]


def test_an_sso_token_planted_by_another_user_is_not_used(tmp_path, sts, sso, shared_dir):
    box = _sso_box(tmp_path, sts.url, sso)
    token = json.dumps(seed_sso_token(box, sso))
    target = sso_token_path(box)
    target.unlink()
    staged = shared_dir / target.name
    _as_another_user(staged, token)
    try:
        os.rename(staged, target)  # keeps its owner
    except OSError:  # another filesystem: the same ownership, given by root
        shutil.copy(staged, target)
        os.chown(target, NOBODY, NOBODY)
    assert target.stat().st_uid == NOBODY
    result = box.run("--profile", "dev", timeout=RUN_BOUND)
    assert result.code == 3 and result.stdout == "", result.stderr


@pytest.mark.parametrize("mode", [0o620, 0o602], ids=["group-writable", "world-writable"])
def test_a_session_file_others_may_write_is_not_used(console_sandbox, signin, mode):
    path = _console(console_sandbox, signin)
    path.chmod(mode)
    result = console_sandbox.run("--profile", "dev", timeout=RUN_BOUND)
    assert result.code == 3 and result.stdout == "", result.stderr


# --- a file the AWS CLI is rewriting ----------------------------------------------------------------


def _stderr_until(process: subprocess.Popen, needle: str, timeout: float) -> str:
    """What the process wrote on stderr until a line holding `needle` (bounded by `timeout`)."""
    seen = b""
    ends = time.monotonic() + timeout
    fd = process.stderr.fileno()  # type: ignore[union-attr]
    while needle.encode() not in seen:
        left = ends - time.monotonic()
        assert left > 0, f"no {needle!r} within {timeout} s: {seen.decode(errors='replace')}"
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 65536) if ready else b""
        assert chunk or not ready, f"stderr closed before {needle!r}: {seen.decode(errors='replace')}"
        seen += chunk
    return seen.decode(errors="replace")


def test_a_half_written_aws_login_session_is_read_again(console_sandbox, signin):
    path = _console(console_sandbox, signin)
    whole = path.read_text()
    path.parent.chmod(0o700)
    path.write_text(whole[: len(whole) // 2])  # as the AWS CLI leaves it mid-write: truncated, then part
    process = console_sandbox.popen("--profile", "dev", env={"CRED_EXPORT_DEBUG": "1"})
    _stderr_until(process, "perhaps half-written", timeout=RUN_BOUND)
    path.write_text(whole)  # the AWS CLI finishes its write
    out, err = process.communicate(timeout=RUN_BOUND)
    assert process.returncode == 0, err
    assert json.loads(out)["Credentials"]["AccessKeyId"] == json.loads(whole)["accessToken"]["accessKeyId"]


# --- a kill at the rename --------------------------------------------------------------------------


KILL_AT_RENAME = str(Path(__file__).parent.parent / "harness" / "kill_at_rename")


def _killed_at_the_rename_of(box: Sandbox, path: Path, *args: str) -> list[Path]:
    """Run cred-export, SIGKILLed at the moment it would rename its temporary file onto `path`
    (tests/harness/kill_at_rename); the temporary files left next to `path`."""
    env = {"PYTHONPATH": KILL_AT_RENAME, "KILL_AT_RENAME_ONTO": str(path)}
    outcome = restricted_run(box, *args, env=env)
    assert outcome.code == -9, outcome
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def test_clear_removes_what_a_kill_at_the_rename_of_a_session_file_left(console_sandbox, signin):
    path = _console(console_sandbox, signin, access_ttl=0)  # due: the export renews and rewrites it
    strays = _killed_at_the_rename_of(console_sandbox, path, "--profile", "dev")
    assert len(strays) == 1
    assert signin.current_refresh_token() in strays[0].read_text()  # the live session is in it
    assert stat.S_IMODE(strays[0].stat().st_mode) == 0o600

    cleared = console_sandbox.run("clear", "--profile", "dev", "--session-files", timeout=RUN_BOUND)
    assert cleared.code == 0, cleared.stderr
    assert not path.exists() and list(path.parent.glob(f".{path.name}.*")) == []


def test_clear_removes_what_a_kill_at_the_rename_of_a_cache_entry_left(sandbox):
    profile = sandbox.role_chain(depth=1)
    entry = sandbox.cache_dir / "credentials" / sandbox.cache_key(profile)
    strays = _killed_at_the_rename_of(sandbox, entry, "--profile", profile)
    assert len(strays) == 1 and "cred-export-record" in strays[0].read_text()
    cleared = sandbox.run("clear", "--profile", profile, timeout=RUN_BOUND)
    assert cleared.code == 0, cleared.stderr
    assert list(entry.parent.glob(f".{entry.name}.*")) == []


# --- clear during a renewal ------------------------------------------------------------------------


def test_clear_during_a_renewal_waits_for_it_and_the_file_stays_deleted(tmp_path, sts, sso):
    front = FaultyUpstream(sso.url, dialect="aws-json")
    held: list[str] = []
    release = threading.Event()

    def hold(path: str) -> None:
        held.append(path)
        release.wait(RUN_BOUND)

    front.on_request = hold
    try:
        box = _sso_box(tmp_path, sts.url, sso, oidc_url=front.url)
        seed_sso_token(box, sso, access_ttl=600)  # inside the renewal window, still usable
        token_file = sso_token_path(box)
        export = box.popen("--profile", "dev")
        ends = time.monotonic() + RUN_BOUND
        while not held and time.monotonic() < ends:
            time.sleep(0.02)
        assert held, "the renewal never reached SSO-OIDC"

        clear = box.popen("clear", "--profile", "dev", "--session-files", env={"CRED_EXPORT_DEBUG": "1"})
        _stderr_until(clear, "waiting for the lock", timeout=RUN_BOUND)  # it waits for the renewal
        release.set()
        _, err = export.communicate(timeout=RUN_BOUND)
        assert export.returncode == 0, err
        _, clear_err = clear.communicate(timeout=RUN_BOUND)
        assert clear.returncode == 0, clear_err
    finally:
        release.set()
        front.close()
    assert not token_file.exists()  # the renewal wrote first; clear deleted after it
    assert list(token_file.parent.glob(f".{token_file.name}.*")) == []
