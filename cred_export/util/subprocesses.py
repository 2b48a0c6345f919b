"""Commands cred-export runs for the user (mfa_process, assertion_command): no shell, no stdin,
bounded, and an environment without any AWS secret. Export's own stdin is detached too."""

from __future__ import annotations

import os
import shlex
import subprocess
import time

from cred_export.errors import ConfigError, UpstreamError

_SECRET_VARIABLES = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_BEARER_TOKEN_BEDROCK",
    }
)
MAX_OUTPUT = 1 << 20


def child_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in _SECRET_VARIABLES}


def remove_secret_variables() -> None:
    """Drop AWS secrets from this process's environment, for children started by libraries."""
    for name in _SECRET_VARIABLES:
        os.environ.pop(name, None)


def run_for_output(command: str, what: str, profile: str, deadline: float) -> str:
    """The command's stdout (its stderr is the user's terminal); errors name `what` and `profile`."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"profile {profile!r}: {what} cannot be parsed: {exc}") from None
    if not argv:
        raise ConfigError(f"profile {profile!r}: {what} is empty")
    try:
        completed = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=child_environment(),
            check=False,
            timeout=max(1.0, deadline - time.monotonic()),
        )
    except (FileNotFoundError, PermissionError):
        raise ConfigError(f"profile {profile!r}: {what} {argv[0]!r} not found or not executable") from None
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"profile {profile!r}: {what} did not finish in time") from None
    if completed.returncode != 0:
        raise UpstreamError(f"profile {profile!r}: {what} exited with {completed.returncode}")
    return completed.stdout[:MAX_OUTPUT].decode("utf-8", "replace")


_stdin: dict[str, bool] = {}


def stdin_was_a_terminal() -> bool:
    """Whether this process was started with a terminal on stdin (before `detach_stdin`).

    Claude Code's hooks get a pipe there, even when /dev/tty can still be opened: nothing may
    then ask a question on the terminal, whose screen belongs to Claude Code.
    """
    if "tty" not in _stdin:
        _stdin["tty"] = _isatty(0)
    return _stdin["tty"]


def detach_stdin() -> None:
    """Export reads no input, and neither may its children (credential_process, …)."""
    stdin_was_a_terminal()  # remembered first
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    except OSError:
        pass


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
