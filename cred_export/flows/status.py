"""What is known locally about a profile: its chain, cached credentials, sign-in sessions.

No network calls and no secrets: used by `status` (and `doctor`).
"""

from __future__ import annotations

import time
from typing import Any

from cred_export.chain import Chain
from cred_export.credentials import format_iso
from cred_export.settings import Settings
from cred_export.sources.base import Session
from cred_export.stores.base import Store


def describe(chain: Chain, store: Store, settings: Settings) -> dict[str, Any]:
    """The documented `status --json` entry for one profile."""
    creds = store.get(chain.cache_key())
    fresh = creds is not None and creds.is_fresh(settings.refresh_ahead_seconds)
    session = session_of(chain, store)
    needs = not fresh and chain.root.sign_in_needed(session)
    return {
        "profile": chain.profile,
        "source": chain.root.kind,
        "chain": chain.describe(),
        "roles": [hop.role_arn for hop in chain.roles],
        "credentials": _timed(creds.expiration if creds else None) | {"fresh": fresh},
        "session": _session(session),
        "sign_in_needed": needs,
        "sign_in_command": f"cred-export login --profile {chain.profile}" if needs else None,
        "error": None,
    }


def session_of(chain: Chain, store: Store) -> Session | None:
    """The sign-in session behind the chain's credentials (an MFA session, an SSO token, …)."""
    return chain.root.session(store)


def _session(session: Session | None) -> dict[str, Any] | None:
    if session is None:
        return None
    renewable_until = format_iso(session.renewable_until) if session.renewable_until else None
    return {
        "kind": session.kind,
        **_timed(session.expiration),
        "renewable": session.renewable,
        "renewable_until": renewable_until,
        **session.details,
    }


def _timed(expiration: float | None) -> dict[str, Any]:
    if expiration is None:
        return {"cached": False, "expires": None, "minutes_left": None}
    left = (expiration - time.time()) / 60
    return {"cached": True, "expires": format_iso(expiration), "minutes_left": round(left, 1)}
