"""Whether a browser can be opened here, and opening one (honours $BROWSER via `webbrowser`)."""

from __future__ import annotations

import os
import sys


def can_open_browser() -> bool:
    """False on SSH sessions and on Linux/BSD without a display, unless $BROWSER is set."""
    if os.environ.get("BROWSER"):
        return True
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    if _is_wsl():
        return bool(_which("wslview") or _which("explorer.exe"))
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_browser(url: str) -> bool:
    """Open `url`; False when no browser could be started (the URL is printed anyway)."""
    import webbrowser

    try:
        return webbrowser.open(url, new=1, autoraise=True)
    except webbrowser.Error:
        return False


def _is_wsl() -> bool:
    try:
        with open("/proc/version", encoding="utf-8", errors="replace") as handle:
            return "microsoft" in handle.read().lower()
    except OSError:
        return False


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)
