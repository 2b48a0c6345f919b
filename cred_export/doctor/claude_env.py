"""The environment Claude Code runs with: its settings files' `env` over the process environment.

Settings layers merge key by key, and doctor takes `env` to merge variable by variable too (a
managed `AWS_REGION` wins over the user's); the result applies over the environment Claude Code
was started in. A settings file that is not valid JSON is ignored here; the `claude-code` check reports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cred_export import paths
from cred_export.claude import code_settings
from cred_export.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    value: str
    layer: str | None = None  # "managed", "project-local", "project", "user"; None: the environment
    path: str | None = None  # the settings file

    @property
    def source(self) -> str:
        """`user settings ~/.claude/settings.json` or `the environment`."""
        return f"{self.layer} settings {display_path(self.path or '')}" if self.layer else "the environment"

    @property
    def short_source(self) -> str:
        return self.layer or "environment"


def lookup(name: str) -> Setting | None:
    """Where Claude Code gets variable `name` from, or None if it is unset everywhere."""
    for layer in code_settings.layers():
        value = _env_of(layer).get(name)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return Setting(str(value), layer.name, str(layer.path))
    value = os.environ.get(name)
    return Setting(value) if value else None


def _env_of(layer: code_settings.Layer) -> dict[str, object]:
    try:
        data = layer.load()
    except ConfigError:
        return {}
    env = (data or {}).get("env")
    return env if isinstance(env, dict) else {}


def display_path(path: str) -> str:
    """`path` with the home directory shown as `~`."""
    return paths.display(path)
