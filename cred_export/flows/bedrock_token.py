"""Short-term Bedrock API keys: a bearer token made locally from a profile's credentials.

The token is a SigV4 presigned request (`aws-bedrock-token-generator`), valid for up to 12 hours
and never past the credentials it was made from, in one region. It is cached like credentials
(one entry per profile, reused while it is fresh, for the same credentials and region), so
`export AWS_BEARER_TOKEN_BEDROCK=$(cred-export bedrock-token)` in every new shell is cheap.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from cred_export import log
from cred_export.chain import Chain
from cred_export.credentials import Credentials
from cred_export.errors import ConfigError
from cred_export.fast.token_record import BedrockToken
from cred_export.flows import export
from cred_export.settings import Settings, load_settings
from cred_export.stores import StoreUnavailable
from cred_export.stores.base import Store
from cred_export.stores.cache_key import bedrock_token_key
from cred_export.stores.choose import choose_store

MAX_LIFETIME = 12 * 3600  # what Bedrock accepts


def store_key(chain: Chain) -> str:
    return bedrock_token_key(chain.cache_key())


def bedrock_token(
    profile: str,
    profile_named: bool,
    region_option: str | None,
    *,
    allow_sign_in: bool = True,
    at_least: float = 0,
) -> BedrockToken:
    """The profile's Bedrock API key for the region, cached or made now.

    `allow_sign_in=False` never starts an interactive sign-in; `at_least`: the key has at least
    this many seconds left (the credentials behind it are renewed first when they have less).
    """
    settings = load_settings()
    chain = export.resolve(profile, profile_named, settings)
    region = _region(region_option, profile, settings)
    creds = export.export(profile, profile_named, allow_sign_in=allow_sign_in, at_least=at_least)
    store = choose_store(settings)
    key = store_key(chain)
    cached = BedrockToken.decode(_read(store, key))
    if (
        cached is not None
        and cached.fresh_for(creds, region, settings.refresh_ahead_seconds)
        and cached.expiration - time.time() >= at_least
    ):
        log.debug(f"profile {profile}: Bedrock API key from the cache")
        return cached
    made = _make(creds, region)
    if chain.cacheable:
        try:
            store.put_text(key, made.encode())
        except StoreUnavailable as exc:
            log.warn(f"could not cache the Bedrock API key: {exc}", topic="store-write")
    return made


def _make(creds: Credentials, region: str) -> BedrockToken:
    from aws_bedrock_token_generator import provide_token
    from botocore.credentials import CredentialProvider
    from botocore.credentials import Credentials as BotocoreCredentials

    class These(CredentialProvider):
        METHOD = "cred-export"

        def load(self) -> BotocoreCredentials:
            return BotocoreCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)

    now = time.time()
    lifetime = int(min(MAX_LIFETIME, creds.seconds_left(now)))
    token = provide_token(region=region, aws_credentials_provider=These(), expiry=timedelta(seconds=lifetime))
    log.debug(f"made a Bedrock API key for {region}, valid for {lifetime / 60:.0f} min")
    return BedrockToken(token, now + lifetime, now, region, creds.access_key_id)


def _region(option: str | None, profile: str, settings: Settings) -> str:
    """--region, else AWS_REGION, else the profile's own region (as the hit path chooses it)."""
    region = str(option or os.environ.get("AWS_REGION") or export.profile_region(profile, settings)).strip()
    if not region:
        raise ConfigError(
            f"no region for the Bedrock API key of profile {profile!r}: pass --region, set AWS_REGION"
            " or the profile's region"
        )
    return region


def _read(store: Store, key: str) -> str | None:
    try:
        return store.get_text(key)
    except StoreUnavailable:
        return None
