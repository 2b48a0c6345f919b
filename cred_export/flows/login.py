"""`cred-export login`: make the next export a cache hit, signing in where the chain needs it."""

from __future__ import annotations

import time
from typing import TextIO

from cred_export.credentials import format_iso
from cred_export.errors import LoginRequired, SignInNotCompleted
from cred_export.fast.render import still_valid
from cred_export.flows import export
from cred_export.settings import load_settings
from cred_export.stores.choose import choose_store
from cred_export.util import deadline as network

# How the sign-ins say that nobody completed them before the deadline.
_TIMED_OUT = ("in time", "device code expired")


def login(profile: str, profile_named: bool, *, flow: str, timeout: float | None, out: TextIO) -> None:
    settings = load_settings()
    deadline = time.monotonic() + (timeout or settings.login_timeout_seconds)
    chain = export.resolve(profile, profile_named, settings)
    store = choose_store(settings)
    cached = store.get(chain.cache_key())
    if cached is not None and cached.is_fresh(settings.refresh_ahead_seconds):
        out.write(still_valid(profile, cached))
        return
    # Silent first: a cached session or a refresh token makes a browser unnecessary. Never export's
    # own sign-in (login_from_export): login signs in itself, with its own flow and timeout. The
    # timeout covers all of it: the silent renewal, the sign-in and the export after it.
    with network.until(deadline):
        try:
            creds = export.export(profile, profile_named, grace=False, allow_sign_in=False)
        except LoginRequired:
            try:
                export.sign_in(chain, store, flow=flow, deadline=deadline, out=out)
            except LoginRequired as exc:
                if any(words in exc.why for words in _TIMED_OUT):
                    raise SignInNotCompleted(profile, exc.why, other_device_hint=flow != "device") from None
                raise
            creds = export.export(profile, profile_named, grace=False, allow_sign_in=False)
    print(
        f"Signed in. Credentials for profile {profile} are cached until {format_iso(creds.expiration)}.",
        file=out,
    )
