"""Where this cred-export is installed: the absolute path Claude Code's hooks should run."""

from __future__ import annotations

import os
import shutil
import sys


def executable() -> str | None:
    """This program's absolute path, or None when it cannot be told.

    A frozen bundle is its own executable; otherwise the console script that started us, the
    one beside this interpreter (`python -m cred_export` in a venv), or the one on PATH.
    Symlinks are not followed: package managers put a stable link on PATH
    (`/opt/homebrew/bin/cred-export`, `/usr/bin/cred-export`) whose target moves on upgrade.
    """
    if getattr(sys, "frozen", False):
        return os.path.abspath(sys.executable)
    launched = sys.argv[0] if sys.argv else ""
    if os.path.basename(launched).startswith("cred-export") and os.path.isfile(launched):
        return os.path.abspath(launched)
    beside = os.path.join(os.path.dirname(sys.executable), "cred-export")
    if os.path.isfile(beside):
        return beside
    found = shutil.which("cred-export")
    return os.path.abspath(found) if found else None
