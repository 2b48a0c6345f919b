"""Chain resolution, in process: which source claims a profile, role hops, cycles, cache keys.

The CLI's own handling of the same inputs (exit codes, one line on stderr) is in
test_bad_input.py; the chains themselves are exercised against STS in test_export.py.
"""

from __future__ import annotations

import io

import pytest

from cred_export.aws.config import AwsConfig
from cred_export.chain import resolve_chain
from cred_export.errors import ConfigError, LoginRequired
from cred_export.sources import registry
from cred_export.sources.base import AWS_CONFIG, Candidate
from cred_export.stores.null_store import NullStore

KEYS = {"aws_access_key_id": "AKIAEXAMPLE1", "aws_secret_access_key": "s1"}
SSO = {"sso_start_url": "https://corp.awsapps.com/start", "sso_region": "us-east-1",
       "sso_account_id": "123456789012", "sso_role_name": "Dev"}  # fmt: skip
OIDC = {"source": "oidc", "issuer": "https://idp.example.com", "client_id": "c", "role_arn": "arn:r"}


def config(**profiles: dict[str, str]) -> AwsConfig:
    return AwsConfig(dict(profiles), "config", "credentials")


def resolve(cfg: AwsConfig, name: str, **idp: dict):  # type: ignore[no-untyped-def]
    return resolve_chain(cfg, name, profile_named=True, idp_profiles=idp)


@pytest.mark.parametrize(
    "settings, kind",
    [
        (KEYS, "static"),
        ({**KEYS, "aws_session_token": "t"}, "static"),
        (SSO, "sso"),
        ({**SSO, **KEYS}, "sso"),  # an SSO profile that also holds keys is an SSO profile
        ({"credential_process": "x"}, "botocore"),
        ({**KEYS, "credential_process": "x"}, "botocore"),  # botocore runs the process
        ({"web_identity_token_file": "/t", "role_arn": "arn:r"}, "botocore"),
        ({"login_session": "arn:aws:iam::123456789012:user/alice"}, "console"),
        ({"login_session": ""}, "console"),  # not signed in yet: login fills it in
        ({**KEYS, "login_session": "arn:aws:iam::123456789012:user/alice"}, "static"),  # keys first
        ({"login_session": "arn:aws:iam::123456789012:user/a", "credential_process": "x"}, "console"),
    ],
)
def test_the_first_source_in_the_registry_that_claims_a_profile_builds_its_root(settings, kind):
    assert resolve(config(p=settings), "p").root.kind == kind


def test_every_registered_source_has_a_root_with_a_kind_and_a_hint():
    kinds = [source.ROOT.kind for source in registry.SOURCES]
    assert len(set(kinds)) == len(kinds)
    assert all(source.ROOT.hint for source in registry.SOURCES)


def test_a_profile_no_source_claims_names_what_to_set():
    with pytest.raises(ConfigError, match="'p' has no credentials: set sso_session, aws_access_key_id"):
        registry.root_for(Candidate("p", {"region": "x"}, AWS_CONFIG), config())


def test_a_settings_table_with_an_unknown_source_names_the_known_ones():
    with pytest.raises(ConfigError, match=r'\[profiles.p\]: source must be "oidc" or "saml"'):
        resolve(config(), "p", p={"source": "ldap"})


def test_a_role_profile_may_use_its_own_keys():
    chain = resolve(config(me={"role_arn": "arn:r", "source_profile": "me", **KEYS}), "me")
    assert chain.root.kind == "static" and [h.role_arn for h in chain.roles] == ["arn:r"]


def test_roles_are_assumed_from_the_root_outwards():
    cfg = config(
        base=KEYS,
        r1={"role_arn": "arn:r1", "source_profile": "base"},
        r2={"role_arn": "arn:r2", "source_profile": "r1", "mfa_serial": "arn:mfa"},
    )
    chain = resolve(cfg, "r2")
    assert [hop.role_arn for hop in chain.roles] == ["arn:r1", "arn:r2"]
    assert chain.root.inner.profile == "base" and chain.root.serial == "arn:mfa"
    assert chain.describe() == "static keys (profile base) → role arn:r1 → role arn:r2"


def test_mfa_wraps_the_root_in_the_first_mfa_session_from_the_root_outwards():
    cfg = config(
        base=KEYS,
        r1={"role_arn": "arn:r1", "source_profile": "base", "mfa_serial": "m1", "mfa_process": "code"},
        r2={"role_arn": "arn:r2", "source_profile": "r1", "mfa_serial": "m2"},
    )
    chain = resolve(cfg, "r2")
    assert (chain.root.serial, chain.root.process, chain.root.profile) == ("m1", "code", "r2")
    assert chain.root.kind == "static" and chain.root.session(NullStore()).kind == "mfa"
    assert chain.root.identity() == chain.root.inner.identity()
    assert not resolve(cfg, "base").root.store_keys()  # no role, no MFA


def test_mfa_needs_a_sign_in_and_refuses_to_start_from_session_keys():
    pasted = {**KEYS, "aws_session_token": "t"}
    chain = resolve(config(p=pasted, r={"role_arn": "arn:r", "source_profile": "p", "mfa_serial": "m"}), "r")
    with pytest.raises(LoginRequired, match="MFA m"):
        chain.root.credentials(NullStore())
    with pytest.raises(ConfigError, match="mfa_serial is supported on chains that start from access keys"):
        chain.root.sign_in(NullStore(), flow="auto", deadline=0, out=io.StringIO())


def test_an_idp_profile_may_be_the_source_of_a_role_chain():
    chain = resolve(config(r={"role_arn": "arn:r2", "source_profile": "corp"}), "r", corp=OIDC)
    assert chain.root.kind == "oidc" and [hop.role_arn for hop in chain.roles] == ["arn:r2"]


def test_a_name_defined_twice_is_refused():
    with pytest.raises(ConfigError, match="defined both in config and as"):
        resolve(config(corp=KEYS), "corp", corp=OIDC)


def test_a_source_profile_cycle_names_the_cycle():
    cfg = config(
        a={"role_arn": "arn:a", "source_profile": "b"}, b={"role_arn": "arn:b", "source_profile": "a"}
    )
    with pytest.raises(ConfigError, match="cycle in profile 'a': a → b → a"):
        resolve(cfg, "a")


def test_a_role_without_a_source_is_refused_but_credential_source_goes_to_botocore():
    with pytest.raises(ConfigError, match="role_arn but no source_profile"):
        resolve(config(r={"role_arn": "arn:r"}), "r")
    chain = resolve(config(r={"role_arn": "arn:r", "credential_source": "Environment"}), "r")
    assert chain.root.kind == "botocore" and chain.roles == ()


@pytest.mark.parametrize("value", ["899", "43201", "soon"])
def test_durations_outside_what_sts_allows_are_refused(value):
    with pytest.raises(ConfigError, match="duration_seconds"):
        resolve(
            config(base=KEYS, r={"role_arn": "arn:r", "source_profile": "base", "duration_seconds": value}),
            "r",
        )


def test_pasted_session_keys_are_not_cached_unless_a_role_is_assumed_from_them():
    pasted = {**KEYS, "aws_session_token": "t"}
    assert not resolve(config(p=pasted), "p").cacheable
    assert resolve(config(p=pasted, r={"role_arn": "arn:r", "source_profile": "p"}), "r").cacheable
    assert resolve(config(p=KEYS), "p").cacheable


def test_cache_key_depends_on_every_input_but_not_on_secrets():
    role = {"role_arn": "arn:r", "source_profile": "base"}
    key = resolve(config(base=KEYS, r=role), "r").cache_key()
    same = resolve(config(base={**KEYS, "aws_secret_access_key": "s2"}, r=role), "r")
    assert same.cache_key() == key
    for changed in (
        {**role, "external_id": "x"},
        {**role, "role_arn": "arn:other"},
        {**role, "duration_seconds": "900"},
        {**role, "role_session_name": "n"},
        {**role, "mfa_serial": "arn:mfa"},
    ):
        assert resolve(config(base=KEYS, r=changed), "r").cache_key() != key


def test_cache_key_follows_the_sts_endpoint(monkeypatch):
    cfg = config(p=KEYS)
    key = resolve(cfg, "p").cache_key()
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    assert resolve(cfg, "p").cache_key() != key


def test_environment_keys_only_when_no_profile_was_named(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    cfg = config(default={"aws_access_key_id": "AKIAFILE", "aws_secret_access_key": "s"})
    from_env = resolve_chain(cfg, "default", profile_named=False)
    assert from_env.root.kind == "environment" and from_env.root.access_key_id == "AKIAENV"
    assert resolve(cfg, "default").root.access_key_id == "AKIAFILE"


def test_every_chain_lists_the_store_entries_it_owns():
    chain = resolve(
        config(base=KEYS, r={"role_arn": "arn:r", "source_profile": "base", "mfa_serial": "m"}), "r"
    )
    assert chain.store_keys() == [chain.cache_key(), chain.root.session_key()]
    oidc = resolve(config(), "corp", corp=OIDC)
    assert len(oidc.store_keys()) == 3  # credentials, refresh token, id_token; not the client secret
    assert oidc.root.client_secret_key() not in oidc.store_keys()


def test_unknown_profile_error_lists_profiles():
    with pytest.raises(ConfigError, match="known profiles: a, b"):
        config(b={}, a={}).profile("c")


def test_a_console_session_is_the_source_of_a_role_chain_and_its_cache_key_follows_the_session():
    arn = "arn:aws:iam::123456789012:user/alice"
    cfg = config(dev={"login_session": arn}, r={"role_arn": "arn:r", "source_profile": "dev"})
    chain = resolve(cfg, "r")
    assert chain.root.kind == "console" and [hop.role_arn for hop in chain.roles] == ["arn:r"]
    other = resolve(config(dev={"login_session": arn.replace("alice", "bob")}, r=cfg.profiles["r"]), "r")
    assert other.cache_key() != chain.cache_key()
    assert chain.root.shared_files() and chain.root.browser_sign_in
