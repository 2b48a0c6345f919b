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
from cred_export.aws_config import load_aws_config
from cred_export.cache_key import digest
from cred_export.chain import Chain
from cred_export.credentials import Credentials, refresh_ahead_for
from cred_export.errors import ConfigError
from cred_export.flows import export
from cred_export.settings import Settings, load_settings
from cred_export.stores import StoreUnavailable
from cred_export.stores.base import Store
from cred_export.stores.choose import choose_store

MAX_LIFETIME = 12 * 3600  # what Bedrock accepts


class BedrockToken:
    def __init__(self, token: str, expiration: float, issued: float, region: str, key_id: str) -> None:
        self.token, self.expiration, self.issued = token, expiration, issued
        self.region, self.key_id = region, key_id

    def encode(self) -> str:
        return f"{int(self.expiration)} {int(self.issued)} {self.region} {self.key_id}\n{self.token}"

    @classmethod
    def decode(cls, text: str | None) -> BedrockToken | None:
        head, _, token = (text or "").partition("\n")
        fields = head.split(" ")
        if len(fields) != 4 or not (fields[0].isdigit() and fields[1].isdigit()) or not token:
            return None
        return cls(token, int(fields[0]), int(fields[1]), fields[2], fields[3])

    def fresh_for(self, creds: Credentials, region: str, refresh_ahead: float) -> bool:
        """Made from these credentials, for this region, with its first half of life still ahead."""
        if (self.key_id, self.region) != (creds.access_key_id, region):
            return False
        window = refresh_ahead_for(self.expiration - self.issued, refresh_ahead)
        return self.expiration - time.time() >= window


def store_key(chain: Chain) -> str:
    return digest({"type": "bedrock-token", "credentials": chain.cache_key()})


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
    """--region, else AWS_REGION, else the profile's region (an AWS profile's or a [profiles.NAME]'s)."""
    own = load_aws_config().profiles.get(profile, {}).get("region") or settings.profiles.get(profile, {}).get(
        "region"
    )
    region = str(option or os.environ.get("AWS_REGION") or own or "").strip()
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
