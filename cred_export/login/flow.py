"""`cred-export login`: make the next export a cache hit, signing in where the chain needs it."""

from __future__ import annotations

import time
from typing import TextIO

from cred_export import exporter
from cred_export.aws_config import load_aws_config
from cred_export.chain import SsoRoot, resolve_chain
from cred_export.credentials import format_iso
from cred_export.errors import LoginRequired
from cred_export.settings import load_settings
from cred_export.stores.choose import choose_store


def login(profile: str, profile_named: bool, *, flow: str, timeout: float | None, out: TextIO) -> None:
    settings = load_settings()
    deadline = time.monotonic() + (timeout or settings.login_timeout_seconds)
    chain = resolve_chain(load_aws_config(), profile, profile_named=profile_named)
    cached = choose_store(settings).store.get(chain.cache_key())
    if cached is not None and cached.seconds_left() >= settings.refresh_ahead_seconds:
        print(
            f"Credentials for profile {profile} are valid until {format_iso(cached.expiration)}"
            f" ({cached.seconds_left() / 60:.0f} min left); no sign-in needed.",
            file=out,
        )
        return
    if isinstance(chain.root, SsoRoot):
        _ensure_sso_token(chain.root, flow, deadline, out)
    creds = exporter.export(profile, profile_named)
    print(
        f"Signed in. Credentials for profile {profile} are cached until {format_iso(creds.expiration)}.",
        file=out,
    )


def _ensure_sso_token(root: SsoRoot, flow: str, deadline: float, out: TextIO) -> None:
    from cred_export.sso.session import sign_in, usable_token

    try:
        usable_token(root)  # silent renewal first: no browser when the session still lives
    except LoginRequired:
        sign_in(root, flow=flow, deadline=deadline, out=out)
