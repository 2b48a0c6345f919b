"""Messages on stderr: warnings always, debug lines with `--debug` or CRED_EXPORT_DEBUG=1.

Callers pass only what is safe to show: access key ids through `credentials.mask`, never a
secret key, session token or refresh token. Every line is one line of printable characters:
anything else (control characters from an answer) is shown as `?`.
"""

from __future__ import annotations

import os
import sys
import time

_started = time.perf_counter()
_debug = os.environ.get("CRED_EXPORT_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def enable_debug() -> None:
    global _debug
    _debug = True


def debug_enabled() -> bool:
    return _debug


def debug(message: str) -> None:
    if _debug:
        elapsed = (time.perf_counter() - _started) * 1000
        _write(f"cred-export: debug: +{elapsed:.0f}ms {message}")


_warned: set[str] = set()


def warn(message: str, *, topic: str | None = None) -> None:
    """One warning line; with `topic`, at most one line per topic per process."""
    if topic is not None:
        if topic in _warned:
            return
        _warned.add(topic)
    _write(f"cred-export: warning: {message}")


def error(message: str) -> None:
    _write(f"cred-export: {message}")


def info(message: str) -> None:
    """One line of what a command did (setup's "wrote …"), on stderr like every message."""
    _write(f"cred-export: {message}")


def _write(line: str) -> None:
    if not line.isprintable():  # text from a service: no escape sequence reaches the terminal
        line = "".join(ch if ch.isprintable() else "?" for ch in line)
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr closed: Claude Code discards it anyway
