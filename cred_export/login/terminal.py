"""Questions for a person at the controlling terminal (`/dev/tty`), never stdin, always bounded.

Only when cred-export was started from a terminal (stdin a tty): under Claude Code's hooks stdin
is a pipe, and even where /dev/tty can be opened its screen is Claude Code's, so every question
answers None at once.
"""

from __future__ import annotations

import os
import select
import time

from cred_export.util import subprocesses


def available() -> bool:
    """Whether a person could answer: started from a terminal, and it can still be opened."""
    if not subprocesses.stdin_was_a_terminal():
        return False
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def ask(prompt: str, deadline: float) -> str | None:
    """A line typed on the controlling terminal (never stdin), or None without one or in time."""
    if not subprocesses.stdin_was_a_terminal():
        return None
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    try:
        os.write(fd, prompt.encode())
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.write(fd, b"\n")
                return None
            chunk = os.read(fd, 64)
            if not chunk:
                break
            line += chunk
        return line.decode("utf-8", "replace").strip()
    finally:
        os.close(fd)
