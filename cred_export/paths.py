"""Where cred-export reads its configuration and keeps its cache, per OS.

Plain `os.path` strings: this module is on the cache-hit path (`pathlib` imports `re`).
"""

from __future__ import annotations

import os
import sys


def _home() -> str:
    return os.path.expanduser("~")


def system_config_file() -> str:
    """The machine-wide config IT can preset (lowest precedence)."""
    override = os.environ.get("CRED_EXPORT_SYSTEM_CONFIG")
    if override:
        return override
    if sys.platform == "win32":
        program_data = os.environ.get("ProgramData", r"C:\ProgramData")  # noqa: SIM112 (Windows' name)
        return os.path.join(program_data, "cred-export", "config.toml")
    if sys.platform == "darwin":
        return "/Library/Application Support/cred-export/config.toml"
    return "/etc/cred-export/config.toml"


def user_config_file() -> str:
    override = os.environ.get("CRED_EXPORT_CONFIG")
    if override:
        return override
    if sys.platform == "win32":
        return os.path.join(os.environ.get("APPDATA", _home()), "cred-export", "config.toml")
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(_home(), ".config")
    return os.path.join(base, "cred-export", "config.toml")


def cache_dir() -> str:
    """Private per-user directory for the file store, the memos and the lock files."""
    override = os.environ.get("CRED_EXPORT_CACHE_DIR")
    if override:
        return override
    if sys.platform == "win32":
        return os.path.join(os.environ.get("LOCALAPPDATA", _home()), "cred-export", "cache")
    if sys.platform == "darwin":
        return os.path.join(_home(), "Library", "Caches", "cred-export")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(_home(), ".cache")
    return os.path.join(base, "cred-export")


def store_choice_file() -> str:
    """Where the store chosen once for a machine without an OS keyring is remembered."""
    return os.path.join(cache_dir(), "store-choice")


def aws_config_file() -> str:
    return os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config")


def aws_credentials_file() -> str:
    return os.path.expanduser(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials")


def display(path: str) -> str:
    """`path` with the home directory shown as `~`."""
    home = _home()
    if home and home != "/" and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path
