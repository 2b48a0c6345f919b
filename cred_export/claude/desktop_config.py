"""Claude Desktop on Bedrock: what its credential helper serves, and the configuration that runs it.

Claude Desktop (third-party inference) runs `inferenceCredentialHelper` with no arguments and
reads a bearer token from stdout; cred-export is that helper when `CLAUDE_HELPER_CONTEXT` is set.
Which profile and region it serves is cred-export's `[claude_desktop]` table (the machine-wide
settings file for laptop images, the user's own for everyone else).

This module holds what both sides agree on: the choice (`HelperChoice`), the TTL rule, and the
documents that point Claude Desktop at the helper: the user's local configuration library, the
`.mobileconfig` and the `.reg` IT pushes. Every value of a managed document is a string.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from cred_export.claude.iam_policy import is_region
from cred_export.errors import ConfigError

TABLE = "claude_desktop"
PREFERENCE_DOMAIN = "com.anthropic.claudefordesktop"
REGISTRY_KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Claude"
REG_HEADER = "Windows Registry Editor Version 5.00"
CONTEXTS = ("interactive", "mid-session-refresh", "scheduled-task", "setup-test", "background")

# Claude Desktop's own default and ceiling for how long it keeps the helper's output.
MAX_TTL_SECONDS = 3600
MIN_TTL_SECONDS = 60
# Each helper run is bounded by this (Claude Desktop: default 60 s, at most 600 s). A browser
# sign-in in the `interactive` context needs the user's time, so cred-export asks for more.
DEFAULT_TIMEOUT_SECONDS = 300
MAX_TIMEOUT_SECONDS = 600
MIN_TIMEOUT_SECONDS = 10
# A printed token has at least this much life left beyond the TTL (the run itself, clock skew).
TTL_MARGIN_SECONDS = 60
# How long credentials last when nothing says otherwise: console sessions, STS's default.
CONSOLE_LIFETIME_SECONDS = 900
DEFAULT_LIFETIME_SECONDS = 3600

# The id of the entry cred-export keeps in Claude Desktop's local configuration library.
LIBRARY_ENTRY_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/cred-export/claude-desktop"))
LIBRARY_ENTRY_NAME = "Amazon Bedrock (cred-export)"
_PROFILE_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,128}")  # any name the AWS config can hold


def ttl_for(lifetime: float) -> int:
    """The TTL Claude Desktop is told: a third of the credentials' lifetime, in whole minutes,
    between 1 minute and an hour (5 min for console sessions, 20 min for a 1-hour role)."""
    third = int(lifetime // 3 // 60 * 60)
    return max(MIN_TTL_SECONDS, min(MAX_TTL_SECONDS, third))


@dataclass(frozen=True)
class HelperChoice:
    """What `setup claude-desktop` recorded: the profile and region served, and the timings."""

    profile: str
    region: str
    ttl_seconds: int
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        if not _PROFILE_NAME.fullmatch(self.profile):
            raise ConfigError(f"claude_desktop: profile {self.profile!r} is not a profile name")
        if not is_region(self.region):
            raise ConfigError(
                f"claude_desktop: region {self.region!r} is not an AWS region such as us-east-1"
            )
        if not MIN_TTL_SECONDS <= self.ttl_seconds <= MAX_TTL_SECONDS:
            raise ConfigError(
                f"claude_desktop: ttl_seconds must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS}"
            )
        if not MIN_TIMEOUT_SECONDS <= self.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise ConfigError(
                f"claude_desktop: timeout_seconds must be between {MIN_TIMEOUT_SECONDS}"
                f" and {MAX_TIMEOUT_SECONDS}"
            )

    @classmethod
    def from_settings(cls, table: dict[str, Any]) -> HelperChoice | None:
        """The choice in a `[claude_desktop]` table; None when there is none; ConfigError when bad."""
        values = {key: value for key, value in table.items() if key != "__origin__"}
        if not values:
            return None
        origin = table.get("__origin__", "settings")
        known = {"profile": str, "region": str, "ttl_seconds": int, "timeout_seconds": int}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{origin}: unknown setting {TABLE}.{key} (known: {', '.join(known)})")
            if not isinstance(value, known[key]) or isinstance(value, bool):
                raise ConfigError(f"{origin}: {TABLE}.{key} has the wrong type ({type(value).__name__})")
        missing = [key for key in ("profile", "region", "ttl_seconds") if key not in values]
        if missing:
            raise ConfigError(
                f"{origin}: [{TABLE}] lacks {', '.join(missing)}: run cred-export setup claude-desktop"
            )
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{origin}: {exc}") from None

    @property
    def min_token_seconds(self) -> int:
        """No printed token has less life left than this."""
        return self.ttl_seconds + TTL_MARGIN_SECONDS

    def settings_table(self) -> dict[str, str | int]:
        return {
            "profile": self.profile,
            "region": self.region,
            "ttl_seconds": self.ttl_seconds,
            "timeout_seconds": self.timeout_seconds,
        }


def configuration(choice: HelperChoice, executable: str) -> dict[str, Any]:
    """Claude Desktop's keys for the helper, with native JSON types (the local library's form)."""
    return {
        "inferenceProvider": "bedrock",
        "inferenceBedrockRegion": choice.region,
        "inferenceCredentialKind": "helper-script",
        "inferenceCredentialHelper": executable,
        "inferenceCredentialHelperTtlSec": choice.ttl_seconds,
        "inferenceCredentialHelperTimeoutSec": choice.timeout_seconds,
        "inferenceCredentialHelperSilentRefreshEnabled": True,
    }


def managed_policy(choice: HelperChoice, executable: str) -> dict[str, str]:
    """The same keys as managed policy wants them: every value a string (integers in decimal)."""
    return {key: _as_string(value) for key, value in configuration(choice, executable).items()}


def _as_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def mobileconfig(policy: dict[str, str]) -> bytes:
    """A configuration profile (XML plist) for the preference domain Claude Desktop reads."""
    seed = json.dumps(policy, sort_keys=True)
    payload = {
        "PayloadType": PREFERENCE_DOMAIN,
        "PayloadIdentifier": f"{PREFERENCE_DOMAIN}.cred-export",
        "PayloadUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, "payload:" + seed)).upper(),
        "PayloadVersion": 1,
        "PayloadDisplayName": "Claude Desktop: Amazon Bedrock through cred-export",
        **policy,
    }
    profile = {
        "PayloadContent": [payload],
        "PayloadDisplayName": "Claude Desktop on Amazon Bedrock",
        "PayloadDescription": (
            "Runs cred-export as Claude Desktop's credential helper. Install cred-export's machine-wide"
            " settings beside it: cred-export setup claude-desktop --managed --format toml."
        ),
        "PayloadIdentifier": "cred-export.claude-desktop",
        "PayloadScope": "System",
        "PayloadType": "Configuration",
        "PayloadUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, "profile:" + seed)).upper(),
        "PayloadVersion": 1,
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=False)


def registry_file(policy: dict[str, str]) -> bytes:
    """A `.reg` file for HKLM\\SOFTWARE\\Policies\\Claude: string values (REG_SZ) only.

    Written as regedit itself exports: UTF-16LE with a byte order mark and CRLF line ends, so
    that any path (a non-ASCII user name) survives. Inside a quoted name or value, a backslash
    and a double quote are escaped with a backslash; line ends cannot be written and are refused.
    """
    lines = [REG_HEADER, "", f"[{REGISTRY_KEY}]"]
    for name, value in policy.items():
        lines.append(f"{_reg_quoted(name)}={_reg_quoted(value)}")
    text = "\r\n".join(lines) + "\r\n"
    return b"\xff\xfe" + text.encode("utf-16-le")


def _reg_quoted(text: str) -> str:
    if any(char in text for char in "\r\n\0"):
        raise ConfigError(f"{text[:40]!r} cannot be written to a .reg file (a line end or NUL)")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_toml(choice: HelperChoice) -> str:
    """The `[claude_desktop]` table of cred-export's settings, as TOML."""
    from cred_export.util.toml_table import render_table

    return render_table(TABLE, choice.settings_table())


# --- the user's local configuration library ---------------------------------------------------


def library_dir() -> str | None:
    """Where Claude Desktop keeps the user's configurations; None where it does not run (Linux).

    CRED_EXPORT_CLAUDE_DESKTOP_LIBRARY overrides it (tests, and checking the files on Linux)."""
    override = os.environ.get("CRED_EXPORT_CLAUDE_DESKTOP_LIBRARY")
    if override:
        return override
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/Claude-3p/configLibrary")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
        return os.path.join(base, "Claude-3p", "configLibrary")
    return None


LIBRARY_PLACES = {
    "macOS": "~/Library/Application Support/Claude-3p/configLibrary/",
    "Windows": "%LOCALAPPDATA%\\Claude-3p\\configLibrary\\",
}


@dataclass(frozen=True)
class LibraryUpdate:
    """The files of the configuration library to write: cred-export's entry, and `_meta.json`."""

    entry_path: str
    entry: dict[str, Any]
    meta_path: str
    meta: dict[str, Any]


def library_update(directory: str, keys: dict[str, Any]) -> LibraryUpdate:
    """cred-export's entry (keys it does not own kept) made the applied one in `_meta.json`."""
    entry_path = os.path.join(directory, LIBRARY_ENTRY_ID + ".json")
    meta_path = os.path.join(directory, "_meta.json")
    entry = {**_read_object(entry_path), **keys}
    meta = _read_object(meta_path)
    entries = meta.get("entries")
    if not isinstance(entries, list):
        entries = []
    others = [e for e in entries if not (isinstance(e, dict) and e.get("id") == LIBRARY_ENTRY_ID)]
    meta = {
        **meta,
        "appliedId": LIBRARY_ENTRY_ID,
        "entries": [*others, {"id": LIBRARY_ENTRY_ID, "name": LIBRARY_ENTRY_NAME}],
    }
    return LibraryUpdate(entry_path, entry, meta_path, meta)


def read_library_entry(directory: str) -> dict[str, Any] | None:
    """cred-export's entry in the library, if there is one (for doctor)."""
    path = os.path.join(directory, LIBRARY_ENTRY_ID + ".json")
    return _read_object(path) if os.path.exists(path) else None


def _read_object(path: str) -> dict[str, Any]:
    """A JSON object file; {} when missing; ConfigError when it is something else."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ConfigError(f"{path} is not a JSON object: fix or remove it, then run setup again")
    return document
