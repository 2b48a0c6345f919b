"""Claude Code's settings files: where they are and which value wins.

Precedence (highest first): managed settings > command-line flags > project-local
(`.claude/settings.local.json`) > project (`.claude/settings.json`) > user
(`~/.claude/settings.json`). Command-line flags are invisible from here and are ignored.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cred_export.errors import ConfigError

HOOKS = ("awsCredentialExport", "awsAuthRefresh")


def user_settings_path() -> Path:
    base = os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")
    return Path(base) / "settings.json"


def managed_settings_path() -> Path:
    """Where IT puts managed settings; CRED_EXPORT_CLAUDE_MANAGED_SETTINGS overrides (tests, audits)."""
    override = os.environ.get("CRED_EXPORT_CLAUDE_MANAGED_SETTINGS")
    if override:
        return Path(override)
    return Path(MANAGED_SETTINGS_PATHS[_platform()])


MANAGED_SETTINGS_PATHS = {
    "macos": "/Library/Application Support/ClaudeCode/managed-settings.json",
    "linux": "/etc/claude-code/managed-settings.json",
    "windows": r"C:\Program Files\ClaudeCode\managed-settings.json",
}


@dataclass(frozen=True)
class Layer:
    name: str  # "managed", "project-local", "project", "user"
    path: Path

    def load(self) -> dict[str, Any] | None:
        """The file's JSON object; None if absent; ConfigError if it is not a JSON object."""
        settings = read_settings(self.path)
        return settings.data if settings.raw is not None else None


def layers(project_dir: Path | None = None) -> list[Layer]:
    """Settings layers, highest precedence first."""
    project = project_dir or Path.cwd()
    user = user_settings_path()
    project_layers = [
        Layer("project-local", project / ".claude" / "settings.local.json"),
        Layer("project", project / ".claude" / "settings.json"),
    ]
    # Started in the home directory, the project's settings file is the user's own: one layer.
    return [
        Layer("managed", managed_settings_path()),
        *(layer for layer in project_layers if not _same_file(layer.path, user)),
        Layer("user", user),
    ]


def _same_file(path: Path, other: Path) -> bool:
    return os.path.realpath(path) == os.path.realpath(other)


def effective(key: str, project_dir: Path | None = None) -> tuple[Any, Layer] | None:
    """The value Claude Code uses for a top-level `key`, and the layer it comes from."""
    for layer in layers(project_dir):
        try:
            data = layer.load()
        except ConfigError:
            continue
        if data is not None and key in data:
            return data[key], layer
    return None


@dataclass(frozen=True)
class SettingsFile:
    """Claude Code's settings file as found: its exact bytes (None when absent) and its object."""

    path: Path
    raw: bytes | None
    data: dict[str, Any]

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8") if self.raw is not None else ""


def read_settings(path: Path) -> SettingsFile:
    """The file as found; an empty one counts as `{}`; ConfigError if it is not a JSON object.

    Strict, since `setup` writes back what it read: no lone surrogates, no numbers beyond a
    double, no nesting Python cannot rewrite."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return SettingsFile(path, None, {})
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text: fix or move it") from None
    return SettingsFile(path, raw, _parse(path, text))


def _parse(path: Path, text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text, parse_float=_finite_float)
    except ValueError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else f" ({exc})"
        raise ConfigError(f"{path} is not valid JSON{where}: fix or move it") from None
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply to rewrite safely: fix or move it") from None
    if _has_lone_surrogate(data):
        raise ConfigError(f"{path} holds an invalid \\u escape (a lone surrogate): fix it")
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else "a single value"
        raise ConfigError(f"{path} holds {kind}, not a JSON object: fix or move it")
    return data


def _finite_float(text: str) -> float:
    """JSON numbers beyond a double (1e999) would be written back as Infinity, which is not JSON."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _has_lone_surrogate(value: object) -> bool:
    """A "\\ud800" escape decodes to a string that cannot be written back as UTF-8."""
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _platform() -> str:
    if sys.platform == "darwin":
        return "macos"
    return "windows" if sys.platform == "win32" else "linux"
