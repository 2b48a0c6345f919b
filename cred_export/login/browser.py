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


def open_browser(url: str) -> None:
    """Open `url` without waiting (the URL is printed too, in case nothing opens).

    On a daemon thread: `webbrowser` waits for a `$BROWSER` command to exit, and a browser
    that was not running yet exits only when closed, while the sign-in needs us to listen.
    """
    import threading
    import webbrowser

    def launch() -> None:
        try:
            webbrowser.open(url, new=1, autoraise=True)
        except Exception:  # a missing or broken browser: the printed URL still works
            pass

    threading.Thread(target=launch, name="open-browser", daemon=True).start()


def _is_wsl() -> bool:
    try:
        with open("/proc/version", encoding="utf-8", errors="replace") as handle:
            return "microsoft" in handle.read().lower()
    except OSError:
        return False


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)
