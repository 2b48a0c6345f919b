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
        return load_settings_file(self.path)


def layers(project_dir: Path | None = None) -> list[Layer]:
    """Settings layers, highest precedence first."""
    project = project_dir or Path.cwd()
    return [
        Layer("managed", managed_settings_path()),
        Layer("project-local", project / ".claude" / "settings.local.json"),
        Layer("project", project / ".claude" / "settings.json"),
        Layer("user", user_settings_path()),
    ]


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


def load_settings_file(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); fix or move it first") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} does not hold a JSON object")
    return data


def _platform() -> str:
    if sys.platform == "darwin":
        return "macos"
    return "windows" if sys.platform == "win32" else "linux"
