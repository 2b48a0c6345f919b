"""`cred_export.stores.cache_key`: the key every cached entry and keyring item is found by.

The digests are pinned: a change to the key's material, schema or length orphans every user's
cached credentials on upgrade, so it must be made on purpose (update the pins with it).
"""

from __future__ import annotations

import pytest

from cred_export.aws.config import AwsConfig
from cred_export.chain import resolve_chain
from cred_export.stores import cache_key

MATERIAL = {"profile": "dev", "chain": ["role/a"]}


@pytest.fixture(autouse=True)
def no_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)


def test_the_schema_version():
    assert cache_key.CACHE_SCHEMA == 1


def test_the_key_for_known_material_is_pinned():
    assert cache_key.digest(MATERIAL) == "8c315198ac1c73b7d61aa80e678b02245d13a092"


def test_the_bedrock_token_key_is_pinned():
    """Where a profile's Bedrock API key is kept, by its credentials' key (made before it had a name)."""
    credentials_key = "8c315198ac1c73b7d61aa80e678b02245d13a092"
    assert cache_key.bedrock_token_key(credentials_key) == "ad2b6640995d4f11487bf7a3df61761311e2b833"


def test_the_sts_endpoint_is_part_of_the_key(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000")
    assert cache_key.digest(MATERIAL) == "950ad3c54d4777a61211654468be375c6bf4ef5a"


@pytest.mark.parametrize(
    "name", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]
)
def test_every_endpoint_variable_changes_the_key(monkeypatch, name):
    before = cache_key.digest(MATERIAL)
    monkeypatch.setenv(name, "true")
    assert cache_key.digest(MATERIAL) != before


def test_the_key_depends_on_the_material_not_its_order():
    assert cache_key.digest({"chain": ["role/a"], "profile": "dev"}) == cache_key.digest(MATERIAL)
    assert cache_key.digest({"profile": "prod", "chain": ["role/a"]}) != cache_key.digest(MATERIAL)
    assert cache_key.digest({**MATERIAL, "schema": 99}) == cache_key.digest(MATERIAL)  # not the caller's


def test_the_key_is_40_hex_digits():
    key = cache_key.digest({})
    assert len(key) == 40 and int(key, 16) >= 0


def test_an_mfa_chain_keeps_its_credentials_key_and_its_mfa_session_key():
    """An MFA chain's credentials, and its MFA session (GetSessionToken with a code), shared by
    every chain from the same keys and serial; `mfa_process` is not part of either key."""
    config = AwsConfig(
        {
            "base": {"aws_access_key_id": "AKIAEXAMPLE1", "aws_secret_access_key": "s1"},
            "dev": {
                "role_arn": "arn:aws:iam::123456789012:role/dev",
                "source_profile": "base",
                "mfa_serial": "arn:aws:iam::123456789012:mfa/alice",
                "mfa_process": "get-code",
            },
        },
        "config",
        "credentials",
    )
    chain = resolve_chain(config, "dev", profile_named=True)
    assert chain.store_keys() == [
        "78742e925fcc732de4e12228638d699818e515ee",  # the credentials
        "556c319383523a36a2aa7fe24c6f6205d5752efa",  # the MFA session
    ]
