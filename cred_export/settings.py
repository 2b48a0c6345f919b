"""cred-export's own settings: system TOML, then the user's TOML, then environment overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from cred_export import files, paths
from cred_export.credentials import MIN_HANDOUT_SECONDS
from cred_export.errors import ConfigError
from cred_export.util import toml_table

CACHE_MODES = ("keyring", "file", "none")
LOGIN_FROM_EXPORT = ("never", "auto")


@dataclass(frozen=True)
class Settings:
    cache: str = "keyring"
    refresh_ahead_minutes: float = 15
    keyring_timeout_seconds: float = 2.0
    keyring_chunk_size: int = 0  # 0: the platform's own limit
    lock_timeout_seconds: float = 60.0
    login_from_export: str = "never"
    login_timeout_seconds: float = 170.0
    # `[profiles.NAME]` tables, merged key by key across layers (see cred_export/idp/profiles.py).
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    sources: tuple[str, ...] = field(default=(), compare=False)
    cache_set_in: str | None = field(default=None, compare=False)  # where `cache` was set, if anywhere
    # `[claude_desktop]`: the profile and region Claude Desktop's helper serves (merged key by key;
    # checked by cred_export/claude/desktop_config.py).
    claude_desktop: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def refresh_ahead_seconds(self) -> float:
        # Refreshing later than MIN_HANDOUT would hand out nearly expired credentials.
        return max(self.refresh_ahead_minutes * 60, MIN_HANDOUT_SECONDS)


_TYPES: dict[str, tuple[type, ...]] = {
    "cache": (str,),
    "refresh_ahead_minutes": (int, float),
    "keyring_timeout_seconds": (int, float),
    "keyring_chunk_size": (int,),
    "lock_timeout_seconds": (int, float),
    "login_from_export": (str,),
    "login_timeout_seconds": (int, float),
}

# Bounds of the numeric settings: (low, high, unit); a low of 0 is exclusive. A sign-in's bound is
# the one `login --timeout` takes.
_RANGES: dict[str, tuple[float, float, str]] = {
    "refresh_ahead_minutes": (0, 24 * 60, "minutes"),
    "keyring_timeout_seconds": (0, 3600, "seconds"),
    "lock_timeout_seconds": (0, 3600, "seconds"),
    "login_timeout_seconds": (5, 3600, "seconds"),
}


def load_settings() -> Settings:
    """Settings from every layer; raises ConfigError naming the file and key at fault."""
    settings = Settings()
    for path in (paths.system_config_file(), paths.user_config_file()):
        table = _read_toml(path)
        if table is not None:
            settings = _apply(settings, table, path)
            settings = replace(settings, sources=(*settings.sources, path))
    cache = os.environ.get("CRED_EXPORT_CACHE")
    if cache:
        settings = _apply(settings, {"cache": cache.strip().lower()}, "CRED_EXPORT_CACHE")
    return settings


def _read_toml(path: str) -> dict[str, Any] | None:
    text = files.read_config(path)
    return None if text is None else toml_table.parse(text, path)


def _merge_profiles(
    current: dict[str, dict[str, Any]], table: object, origin: str
) -> dict[str, dict[str, Any]]:
    """Later layers add profiles and override single keys of the earlier layers' profiles."""
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ConfigError(f"{origin}: [profiles] must hold one table per profile, e.g. [profiles.corp]")
    merged = {name: dict(values) for name, values in current.items()}
    for name, values in table.items():
        merged.setdefault(name, {}).update(values)
        merged[name]["__origin__"] = origin
    return merged


def _apply(settings: Settings, table: dict[str, Any], origin: str) -> Settings:
    known = {f.name for f in fields(Settings)} - {"sources", "profiles", "cache_set_in", "claude_desktop"}
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key == "profiles":
            changes["profiles"] = _merge_profiles(settings.profiles, value, origin)
            continue
        if key == "claude_desktop":
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: claude_desktop must be a table: [claude_desktop]")
            changes["claude_desktop"] = {**settings.claude_desktop, **value, "__origin__": origin}
            continue
        if key not in known:
            raise ConfigError(f"{origin}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        if not isinstance(value, _TYPES[key]) or isinstance(value, bool):
            raise ConfigError(f"{origin}: {key} has the wrong type ({type(value).__name__})")
        changes[key] = value
    if "cache" in changes:
        changes["cache_set_in"] = origin
    if changes.get("cache", settings.cache) not in CACHE_MODES:
        raise ConfigError(f"{origin}: cache must be one of {', '.join(CACHE_MODES)}")
    if changes.get("login_from_export", settings.login_from_export) not in LOGIN_FROM_EXPORT:
        raise ConfigError(f"{origin}: login_from_export must be one of {', '.join(LOGIN_FROM_EXPORT)}")
    for key, (low, high, unit) in _RANGES.items():
        if key in changes and not (low < changes[key] <= high if low == 0 else low <= changes[key] <= high):
            floor = "more than 0" if low == 0 else f"at least {low:g}"
            raise ConfigError(f"{origin}: {key} must be {floor} and at most {high:g} ({unit})")
    chunk = changes.get("keyring_chunk_size", 0)
    if chunk != 0 and not 256 <= chunk <= 1_000_000:
        raise ConfigError(f"{origin}: keyring_chunk_size must be 0 (automatic) or 256 to 1000000")
    return replace(settings, **changes)
