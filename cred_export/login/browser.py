"""Whether a browser can be opened here, and opening one, detached from cred-export.

A browser never touches cred-export's output: it starts in a session of its own with stdin,
stdout and stderr on /dev/null (Claude Code reads export's stdout to its end, so a browser that
inherited it would add its text to the credentials and hold the pipe open until it exits) and
with the caller's AWS secrets removed from its environment, as for every child. Nothing waits
for it beyond a moment: a `$BROWSER` command that returns only when its page is done works too.

`$BROWSER` is honoured as Python's `webbrowser` reads it: commands separated by the path
separator, tried in turn, `%s` standing for the URL (else the URL is the last argument).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading

from cred_export import log
from cred_export.util.subprocesses import child_environment

# How long a command gets to fail (exit non-zero) before the next one is tried; one still
# running then is taken to be the browser.
LAUNCH_GRACE = 2.0


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

    Only `https://` URLs are opened (`http://` on loopback addresses), never one that could be
    read as an option; on a daemon thread, so that the sign-in listens at once.
    """
    from cred_export.util.http import is_safe_url

    if not is_safe_url(url):
        log.debug("not opening a browser for a URL that is not https://")
        return
    threading.Thread(target=_launch, args=(url,), name="open-browser", daemon=True).start()


def _launch(url: str) -> None:
    if sys.platform == "win32" and not os.environ.get("BROWSER"):
        try:
            os.startfile(url)  # type: ignore[attr-defined]  # Windows only; the scheme was checked
        except OSError:
            pass
        return
    for argv in commands(url):
        if _started(argv):
            return


def commands(url: str) -> list[list[str]]:
    """The commands to try, in order: $BROWSER's, else the platform's openers."""
    configured = os.environ.get("BROWSER", "")
    if configured:
        return [_with_url(entry, url) for entry in configured.split(os.pathsep) if entry.strip()]
    if sys.platform == "darwin":
        return [["/usr/bin/open", url]]
    if _is_wsl():
        return [["wslview", url], ["explorer.exe", url]]
    return [["xdg-open", url], ["gio", "open", url], ["sensible-browser", url], ["x-www-browser", url]]


def _with_url(entry: str, url: str) -> list[str]:
    try:
        words = shlex.split(entry)
    except ValueError:
        words = entry.split()
    if words and words[-1] == "&":  # webbrowser's "run in the background": we never wait anyway
        words = words[:-1]
    if any("%s" in word for word in words):
        return [word.replace("%s", url) for word in words]
    return [*words, url]


def _started(argv: list[str]) -> bool:
    """Start `argv` detached; True unless it could not start or quickly failed."""
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,
            cwd=os.path.expanduser("~"),
            env=child_environment(),
        )
    except (OSError, ValueError):
        return False
    try:
        return process.wait(timeout=LAUNCH_GRACE) == 0
    except subprocess.TimeoutExpired:
        return True  # still running: the browser, or a command that returns when its page is done


def _is_wsl() -> bool:
    try:
        with open("/proc/version", encoding="utf-8", errors="replace") as handle:
            return "microsoft" in handle.read().lower()
    except OSError:
        return False


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)
