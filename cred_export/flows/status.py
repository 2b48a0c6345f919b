"""What is known locally about a profile: its chain, cached credentials, sign-in sessions.

No network calls and no secrets: used by `status` (and `doctor`).
"""

from __future__ import annotations

import time
from typing import Any

from cred_export import errors
from cred_export.aws.config import load_aws_config
from cred_export.chain import Chain, resolve_chain
from cred_export.credentials import format_iso
from cred_export.settings import Settings, load_settings
from cred_export.sources.base import Session
from cred_export.stores.base import Store
from cred_export.stores.choose import choose_store
from cred_export.util.text import time_left


def status(profile: str | None) -> dict[str, Any]:
    """The documented `status --json` document: the store the next export uses, and `profile`
    (else every profile), each as `describe` shows it or with the error that stops it."""
    settings = load_settings()
    config = load_aws_config()
    store = choose_store(settings, decide=False)
    names = [profile] if profile else sorted({*config.profiles, *settings.profiles})
    entries = []
    for name in names:
        try:
            chain = resolve_chain(config, name, profile_named=True, idp_profiles=settings.profiles)
            entries.append(describe(chain, store, settings))
        except errors.CredExportError as exc:
            if profile:
                raise
            entries.append({"profile": name, "error": str(exc)})
    return {
        "store": {"name": store.name, "kind": store.kind, "fallback_reason": store.fallback_reason},
        "profiles": entries,
    }


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


def render_text(document: dict[str, Any]) -> str:
    """`status` without --json: the document, a few lines a profile."""
    lines = [f"cache: {document['store']['name']}"]
    for entry in document["profiles"]:
        lines.append(f"\n{entry['profile']}")
        if entry.get("error"):
            lines.append(f"  error: {entry['error']}")
            continue
        lines.append(f"  chain: {entry['chain']}")
        lines.append(f"  credentials: {_time_left(entry['credentials'])}")
        if entry["session"]:
            session = entry["session"]
            renewable = ", renewable" if session["renewable"] else ""
            lines.append(f"  {session['kind']} session: {_time_left(session)}{renewable}")
        lines.append(
            "  sign-in: "
            + (f"needed: {entry['sign_in_command']}" if entry["sign_in_needed"] else "not needed")
        )
    return "\n".join(lines) + "\n"


def _time_left(timed: dict[str, Any]) -> str:
    if not timed["cached"]:
        return "none"
    left = timed["minutes_left"]
    if left <= 0:
        return f"{time_left(left * 60)} (at {timed['expires']})"
    return f"{time_left(left * 60)} (until {timed['expires']})"
