"""What a profile (or its `[sso-session NAME]` section) says about its IAM Identity Center sign-in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SsoSettings:
    profile: str  # the profile these came from, for messages
    session_name: str | None  # None for legacy profiles (sso_start_url on the profile)
    start_url: str
    region: str
    scopes: tuple[str, ...]
