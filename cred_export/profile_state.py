"""What is known locally about a profile: its chain, cached credentials, sign-in sessions.

No network calls and no secrets: used by `status` and `clear` (and `doctor`).
"""

from __future__ import annotations

import time
from typing import Any

from cred_export.chain import BotocoreRoot, Chain, OidcRoot, SamlRoot, SsoRoot, StaticRoot
from cred_export.credentials import format_iso
from cred_export.settings import Settings
from cred_export.stores.base import Store


def source_kind(chain: Chain) -> str:
    root = chain.root
    if isinstance(root, StaticRoot):
        return "environment" if root.origin == "environment" else "static"
    return {SsoRoot: "sso", OidcRoot: "oidc", SamlRoot: "saml", BotocoreRoot: "botocore"}[type(root)]


def cache_keys(chain: Chain) -> list[str]:
    """Every store entry that belongs to this profile's chain (not the OIDC client secret)."""
    keys = [chain.cache_key()]
    if chain.mfa_serial:
        keys.append(chain.mfa_cache_key())
    if isinstance(chain.root, OidcRoot):
        from cred_export.idp.oidc_session import session_keys

        keys += session_keys(chain.root.settings)
    if isinstance(chain.root, SamlRoot):
        from cred_export.sources.saml import assertion_key

        keys.append(assertion_key(chain.root))
    return keys


def describe(chain: Chain, store: Store, settings: Settings) -> dict[str, Any]:
    """The documented `status --json` entry for one profile."""
    creds = store.get(chain.cache_key())
    fresh = creds is not None and creds.seconds_left() >= settings.refresh_ahead_seconds
    session = _session(chain, store)
    needs = not fresh and _sign_in_needed(chain, session, store)
    return {
        "profile": chain.profile,
        "source": source_kind(chain),
        "chain": chain.describe(),
        "roles": [hop.role_arn for hop in chain.roles],
        "credentials": _timed(creds.expiration if creds else None) | {"fresh": fresh},
        "session": session,
        "sign_in_needed": needs,
        "sign_in_command": f"cred-export login --profile {chain.profile}" if needs else None,
        "error": None,
    }


def _session(chain: Chain, store: Store) -> dict[str, Any] | None:
    if chain.mfa_serial:
        mfa = store.get(chain.mfa_cache_key())
        return {"kind": "mfa", **_timed(mfa.expiration if mfa else None), "renewable": False}
    if isinstance(chain.root, SsoRoot):
        from cred_export.sso import tokens

        token = tokens.load(chain.root)
        return {
            "kind": "sso",
            **_timed(token.expires_at if token else None),
            "renewable": bool(token and token.can_refresh),
            "token_file": tokens.path_for(chain.root),
        }
    if isinstance(chain.root, OidcRoot):
        from cred_export.idp.oidc_session import stored_session

        expiry, renewable = stored_session(store, chain.root.settings)
        return {"kind": "oidc", **_timed(expiry), "renewable": renewable}
    return None


def _sign_in_needed(chain: Chain, session: dict[str, Any] | None, store: Store) -> bool:
    if isinstance(chain.root, SamlRoot):
        return True  # only login runs the assertion command
    if session is None:
        return False  # static keys and botocore profiles need no sign-in
    usable = (session["minutes_left"] or 0) > 1
    return not (usable or session["renewable"])


def _timed(expiration: float | None) -> dict[str, Any]:
    if expiration is None:
        return {"cached": False, "expires": None, "minutes_left": None}
    left = (expiration - time.time()) / 60
    return {"cached": True, "expires": format_iso(expiration), "minutes_left": round(left, 1)}
