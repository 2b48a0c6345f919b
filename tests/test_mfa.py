"""MFA for assume-role chains: login gets a code (mfa_process or the terminal); export never asks."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time

from harness.sandbox import EXECUTABLE

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def mfa_chain(box, process: str | None = None) -> None:  # type: ignore[no-untyped-def]
    box.write_credentials()
    extra = f"mfa_process = {process}\n" if process else ""
    box.write_aws_config(
        f"[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n"
        f"mfa_serial = {SERIAL}\n{extra}"
        f"[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n"
        f"mfa_serial = {SERIAL}\n{extra}"
    )


def code_script(tmp_path, code: str = "123456"):  # type: ignore[no-untyped-def]
    script = tmp_path / "mfa.py"
    env_file = str(tmp_path / "env")
    script.write_text(
        f"import os\nopen({env_file!r}, 'w').write(repr(sorted(os.environ.items())))\nprint({code!r})\n"
    )
    return f"{sys.executable} {script}"


def test_login_with_mfa_process_caches_one_mfa_session_for_every_role(sandbox, sts, tmp_path):
    mfa_chain(sandbox, code_script(tmp_path))
    env = {"AWS_SECRET_ACCESS_KEY": "x" * 40 + "inherited"}  # must not reach the child
    login = sandbox.run("login", "--profile", "dev", env=env)
    assert login.code == 0, login.stderr
    session_call, assume = sts.requests
    assert session_call["Action"] == "GetSessionToken" and session_call["_signer"] == sandbox.key_id
    assert (session_call["SerialNumber"], session_call["TokenCode"]) == (SERIAL, "123456")
    assert assume["Action"] == "AssumeRole" and assume["_signer"] not in ("", sandbox.key_id)
    assert "inherited" not in (tmp_path / "env").read_text()
    assert sandbox.run("--profile", "dev").code == 0
    ops = sandbox.run("--profile", "ops")  # same root and serial: the MFA session is reused
    assert ops.code == 0, ops.stderr
    assert [r["Action"] for r in sts.requests] == ["GetSessionToken", "AssumeRole", "AssumeRole"]
    assert sts.requests[-1]["_signer"] == assume["_signer"]


def test_login_without_a_terminal_or_mfa_process_asks_for_one(sandbox, sts):
    mfa_chain(sandbox)
    result = sandbox.run("login", "--profile", "dev")
    assert result.code == 3 and "mfa_process" in result.stderr
    assert sts.calls == {}


def test_a_malformed_code_is_refused_before_any_call(sandbox, sts, tmp_path):
    mfa_chain(sandbox, code_script(tmp_path, "abc"))
    result = sandbox.run("login", "--profile", "dev")
    assert result.code == 2 and "6 digits" in result.stderr
    assert sts.calls == {}


def run_in_terminal(box, *args: str, answer: str | None, timeout: float = 30) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Run the CLI with a pseudo-terminal as its controlling terminal; answer a prompt once."""
    master, slave = os.openpty()

    def become_terminal_owner() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [EXECUTABLE, *args],
        env=box.env,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=become_terminal_owner,
        text=True,
    )
    # The parent keeps `slave` open: the CLI detaches its stdin, and a terminal nobody holds
    # open reads as EIO on the master side until the CLI opens /dev/tty.
    screen = b""
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                screen += os.read(master, 1024)
            if answer is not None and b"MFA code" in screen:
                os.write(master, answer.encode() + b"\n")
                answer = None
        process.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        os.close(master)
        os.close(slave)
        if process.poll() is None:
            process.kill()
    return process.returncode, screen.decode(errors="replace")


def test_login_asks_on_the_terminal(sandbox, sts):
    mfa_chain(sandbox)
    code, screen = run_in_terminal(sandbox, "login", "--profile", "dev", answer="654321")
    assert code == 0, screen
    assert SERIAL in screen
    assert sts.requests[0]["TokenCode"] == "654321"


def test_export_never_prompts_even_with_a_terminal(sandbox, sts):
    mfa_chain(sandbox)
    code, screen = run_in_terminal(sandbox, "--profile", "dev", answer=None, timeout=20)
    assert code == 3 and "MFA code" not in screen
