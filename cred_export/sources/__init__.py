"""Credential sources: one module per way of getting credentials.

`fetch(chain)` walks a resolved chain: root keys first (static keys, or whatever botocore
resolves), then each role in turn. Credentials without a session token are turned into
session credentials, which Claude Code requires.
"""

from __future__ import annotations

import time

from cred_export import log
from cred_export.chain import BotocoreRoot, Chain, OidcRoot, SamlRoot, SsoRoot, StaticRoot
from cred_export.credentials import Credentials, mask
from cred_export.errors import UpstreamError
from cred_export.stores.base import Store
from cred_export.sts import Keys

__all__ = ["Keys", "as_credentials", "fetch", "root_keys"]

# Claude Code's own assumption for credentials without an expiry.
UNKNOWN_EXPIRY_SECONDS = 3600
# Expiries a cache record can hold (Unix time, at most 11 digits).
LATEST_EXPIRY = 10**11 - 1


def root_keys(chain: Chain, store: Store) -> Keys:
    """The chain's first credentials; `store` keeps the IdP sessions (refresh tokens, assertions)."""
    if isinstance(chain.root, StaticRoot):
        root = chain.root
        return Keys(root.access_key_id, root.secret_access_key, root.session_token)
    if isinstance(chain.root, SsoRoot):
        from cred_export.sources.sso import role_credentials

        return role_credentials(chain.root)
    if isinstance(chain.root, OidcRoot):
        from cred_export.idp.oidc_session import usable_id_token
        from cred_export.sources import web_identity

        id_token = usable_id_token(chain.root, store)
        if chain.root.settings.federation == "cognito":
            return web_identity.cognito_credentials(chain.root.settings, id_token)
        return web_identity.assume_role(chain.root.settings, id_token)
    if isinstance(chain.root, SamlRoot):
        from cred_export.sources import saml

        return saml.role_credentials(chain.root, store)
    assert isinstance(chain.root, BotocoreRoot)
    from cred_export.sources.botocore_profile import resolve

    return resolve(chain.root)


def fetch(chain: Chain, root: Keys) -> Credentials:
    """Session credentials for the chain's profile, starting from `root` keys."""
    from cred_export.sources import assume_role, session_token

    keys = root
    if not chain.roles and keys.session_token is None:
        keys = session_token.get_session_token(chain.profile, keys)
    for hop in chain.roles:
        keys = assume_role.assume(hop, keys, chain.profile)
    log.debug(f"profile {chain.profile}: obtained {mask(keys.access_key_id)}")
    return as_credentials(keys)


def as_credentials(keys: Keys) -> Credentials:
    """Keys as credentials to hand out and cache; UpstreamError if a source returned malformed ones."""
    expiration = keys.expiration or time.time() + UNKNOWN_EXPIRY_SECONDS
    values = (keys.access_key_id, keys.secret_access_key, keys.session_token or "")
    if not all(_single_line(value) for value in values) or not _possible_expiry(expiration):
        raise UpstreamError(
            "the credentials obtained are malformed (an empty or multi-line value, or an impossible expiry)"
        )
    return Credentials(*values, expiration)


def _single_line(value: object) -> bool:
    return isinstance(value, str) and bool(value) and "\n" not in value and "\r" not in value


def _possible_expiry(value: object) -> bool:
    return isinstance(value, (int, float)) and 0 < value < LATEST_EXPIRY
