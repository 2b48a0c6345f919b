"""Every parser of outside input, in-process and property-based: it accepts, or it raises the one
error class that becomes a clear line and exit 2/3/4 — never anything else (a traceback, exit 1)."""

from __future__ import annotations

import base64
import json
import math
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from inputs import any_text, environment, ini_document, json_object_with, json_values, odd_text, toml_document

from cred_export.aws.config import AwsConfig, load_aws_config
from cred_export.chain import resolve_chain
from cred_export.claude.code_wiring import read_settings
from cred_export.errors import ConfigError, CredExportError
from cred_export.fast import memo, record
from cred_export.idp.profiles import parse_saml
from cred_export.idp.saml import ROLE_ATTRIBUTE, choose_role, roles_in
from cred_export.settings import load_settings
from cred_export.sources import registry
from cred_export.sources.base import SETTINGS, Candidate
from cred_export.sso import tokens
from cred_export.sso.settings import SsoSettings
from cred_export.stores import chunks

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BYTES = st.binary(max_size=400)


@pytest.fixture(scope="module")
def scratch():  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


# --- ~/.aws/config and ~/.aws/credentials -------------------------------------------------------


def _resolve_every_profile(scratch: Path, config: bytes, credentials: bytes) -> None:
    (scratch / "config").write_bytes(config)
    (scratch / "credentials").write_bytes(credentials)
    paths = {
        "AWS_CONFIG_FILE": str(scratch / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "credentials"),
    }
    with environment(**paths):
        try:
            loaded = load_aws_config()
        except ConfigError:
            return
        for name in [*loaded.profiles, "default", "missing"]:
            try:
                resolve_chain(loaded, name, profile_named=True).cache_key()
            except ConfigError:
                pass


@FUZZ
@given(config=ini_document(), credentials=ini_document())
def test_aws_config_files_resolve_or_raise_a_config_error(scratch, config, credentials):
    _resolve_every_profile(scratch, config.encode(), credentials.encode())


@FUZZ
@given(config=BYTES, credentials=BYTES)
@example(config=b"[profile a]\nregion = \xff\n", credentials=b"")
@example(config=b"[default]\n" + b"x" * 300_000, credentials=b"\x00\x00")
def test_aws_config_bytes_resolve_or_raise_a_config_error(scratch, config, credentials):
    _resolve_every_profile(scratch, config, credentials)


# --- cred-export's TOML settings ----------------------------------------------------------------


@FUZZ
@given(text=toml_document())
@example(text='cache = "file"\n[profiles."../../etc"]\nsource = "oidc"\nissuer = 5\n')
@example(text="refresh_ahead_minutes = 1e400\n")
@example(text="keyring_chunk_size = 99999999999999999999\n")
@example(text='[profiles.corp]\nsource = "oidc"\nscopes = 0\n')  # not a list: refused, not a crash
def test_settings_load_or_raise_a_config_error(scratch, text):
    _load_settings(scratch, text.encode())


@FUZZ
@given(raw=BYTES)
@example(raw=b'cache = "\xff"\n')
def test_settings_bytes_load_or_raise_a_config_error(scratch, raw):
    _load_settings(scratch, raw)


def _load_settings(scratch: Path, raw: bytes) -> None:
    (scratch / "config.toml").write_bytes(raw)
    variables = {
        "CRED_EXPORT_CONFIG": str(scratch / "config.toml"),
        "CRED_EXPORT_SYSTEM_CONFIG": "/nonexistent",
    }
    with environment(**variables):
        try:
            loaded = load_settings()
        except ConfigError:
            return
        for name, table in loaded.profiles.items():
            try:
                registry.root_for(Candidate(name, table, SETTINGS), AwsConfig({}, "config", "credentials"))
            except ConfigError:
                pass


# --- cached entries, chunk heads, resolution memos ----------------------------------------------


@FUZZ
@given(text=st.one_of(any_text, st.lists(any_text, max_size=7).map("\n".join)))
@example(text="cred-export-record 2\nA\nB\nC\n99999999999999999999999\n0\n")
@example(text="cred-export-record 2\nA\nB\nC\n\u0661\u0662\u0663\n0\n")  # Arabic-Indic digits
@example(text="cred-export-record 2\nA\nB\nC\n2000000000\n\u00b2\n")  # superscript two: isdigit(), not int()
def test_cached_records_decode_or_are_a_miss(text):
    decoded = record.decode(text)
    if decoded is not None:
        assert record.decode(record.encode(decoded)) == decoded
        decoded.expiration_iso  # noqa: B018  (renders)


@FUZZ
@given(head=any_text, parts=st.dictionaries(any_text, any_text, max_size=4))
@example(head="chunks 64 00000000", parts={})
@example(head="chunks \uff19 00000000", parts={})  # a full-width digit
def test_chunk_heads_join_or_are_a_miss(head, parts):
    value = chunks.join("key", head, parts.get)
    if not head.startswith("chunks "):
        assert value == head  # not split: the head is the value
    elif value is not None:  # only parts that add up to the head's count and checksum
        _, count, crc = head.split(" ")
        assert value == "".join(parts[f"key/{n}"] for n in range(1, int(count) + 1))
        assert f"{zlib.crc32(value.encode()):08x}" == crc
    assert all(key.startswith("key/") for key in chunks.part_keys("key", head))


@FUZZ
@given(raw=BYTES, fingerprint=any_text)
@example(raw=b"cred-export-memo 1\nFP\nkey=k\nstore=file\nrefresh_ahead=soon\n", fingerprint="FP")
@example(raw=b"cred-export-memo 1\nFP\nkey=k\nstore=file\n", fingerprint="FP")
def test_memos_read_or_are_ignored(scratch, raw, fingerprint):
    with environment(CRED_EXPORT_CACHE_DIR=str(scratch / "cache")):
        path = Path(memo._memo_path(fingerprint))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        found = memo.read(fingerprint)
    if found is None:
        return
    # Only a memo written for exactly this fingerprint, with every field well formed, is trusted.
    assert raw.decode("utf-8").startswith(f"{memo.MAGIC}\n{fingerprint}\n")
    again = memo.Memo.parse(found.lines().splitlines())
    assert again is not None and (again.key, again.store, again.refresh_ahead) == (
        found.key,
        found.store,
        found.refresh_ahead,
    )


def test_a_cached_record_with_an_absurd_expiry_is_a_miss():
    assert record.decode("cred-export-record 2\nA\nB\nC\n" + "9" * 30 + "\n0\n") is None


def test_a_record_of_the_first_schema_is_a_miss_and_an_impossible_issue_time_is_unknown():
    assert record.decode("cred-export-record 1\nA\nB\nC\n2000000000\n") is None
    assert record.decode("cred-export-record 2\nA\nB\nC\n2000000000\n2000000001\n").issued is None
    assert record.decode("cred-export-record 2\nA\nB\nC\n2000000000\n1999999100\n").lifetime == 900


# --- SSO token files ----------------------------------------------------------------------------

_SSO = SsoSettings("p", "corp", "https://corp.awsapps.com/start", "us-east-1", ("sso:account:access",))
_TOKEN_FIELDS = {
    "startUrl": st.sampled_from(["https://corp.awsapps.com/start", "https://corp.awsapps.com/start/", ""]),
    "region": odd_text,
    "accessToken": odd_text,
    "expiresAt": st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "Z"),
        st.sampled_from(
            ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-02-30T00:00:00Z", "soon"]
        ),
    ),
    "clientId": odd_text,
    "clientSecret": odd_text,
    "registrationExpiresAt": st.sampled_from(["0001-01-01T00:00:00+05:00", "2999-01-01T00:00:00Z", "x"]),
    "refreshToken": odd_text,
}


def _load_token(scratch: Path, raw: bytes) -> None:
    """A token file loads as a usable token for this start URL, or as none at all."""
    with environment(HOME=str(scratch)):
        path = Path(tokens.path_for(_SSO))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        token = tokens.load(_SSO)
        if token is None:
            return
        assert token.start_url.rstrip("/") == _SSO.start_url
        assert isinstance(token.access_token, str) and token.access_token
        assert math.isfinite(token.seconds_left())
        if len(token.access_token) >= 8:  # a shorter one may be a piece of the expiry shown there
            assert token.access_token not in repr(token)
        if token.can_refresh:
            assert token.refresh_token and token.client_id and token.client_secret
        tokens.save(_SSO, token)  # what was read can be written back and read the same
        again = tokens.load(_SSO)
    assert again is not None
    assert (again.access_token, again.refresh_token) == (token.access_token, token.refresh_token)
    assert int(again.expires_at) == int(token.expires_at)


@FUZZ
@given(document=json_object_with(_TOKEN_FIELDS))
@example(document={"startUrl": "https://corp.awsapps.com/start", "expiresAt": "2000-01-01T00:00:00Z",
                   "accessToken": "0"})  # fmt: skip
def test_sso_token_files_load_or_are_absent(scratch, document):
    _load_token(scratch, json.dumps(document).encode())


@FUZZ
@given(raw=st.one_of(BYTES, json_values.map(lambda v: json.dumps(v).encode())))
@example(
    raw=b'{"accessToken": "a", "expiresAt": "2030-01-01T00:00:00Z", "x": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}"
)
def test_sso_token_bytes_load_or_are_absent(scratch, raw):
    _load_token(scratch, raw)


# --- SAML assertions ----------------------------------------------------------------------------

_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def _assertion(values: list[str], name: str) -> str:
    items = "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in values)
    xml = (
        f'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="{_SAML}">'
        f'<saml:Assertion><saml:Attribute Name="{name}">{items}</saml:Attribute></saml:Assertion>'
        "</samlp:Response>"
    )
    return base64.b64encode(xml.encode()).decode()


_xml_text = any_text.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace("\x00", ""))
_role_value = st.one_of(
    _xml_text,
    st.tuples(_xml_text, _xml_text).map(",".join),
    st.just("arn:aws:iam::1:role/r,arn:aws:iam::1:saml-provider/p"),
)
saml_assertions = st.one_of(
    st.tuples(st.lists(_role_value, max_size=4), st.sampled_from([ROLE_ATTRIBUTE, "other"])).map(
        lambda a: _assertion(*a)
    ),
    BYTES.map(lambda b: base64.b64encode(b).decode()),
    any_text,
    st.sampled_from(
        [
            base64.b64encode(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').decode(),
            base64.b64encode(b'<?xml version="1.0" encoding="latin-1"?><x>\xff</x>').decode(),
            base64.b64encode("<x>\udcff</x>".encode("utf-8", "surrogateescape")).decode(),
        ]
    ),
)


@FUZZ
@given(assertion=saml_assertions, role_arn=st.one_of(st.none(), odd_text))
def test_saml_assertions_yield_roles_or_a_clear_refusal(assertion, role_arn):
    try:
        pairs = roles_in(assertion, "corp")
    except CredExportError:
        return
    assert pairs and all(isinstance(role, str) and isinstance(principal, str) for role, principal in pairs)
    profile = parse_saml("corp", {"source": "saml", "assertion_command": "x", "role_arn": role_arn or None})
    try:
        chosen = choose_role(profile, pairs)
    except CredExportError:
        assert len(pairs) > 1 or profile.role_arn  # refused only with a choice to make or a miss
        return
    assert chosen in pairs
    assert not profile.role_arn or chosen[0] == profile.role_arn


# --- Claude Code's settings.json, as `setup claude` reads it -------------------------------------


def _read_claude_settings(scratch: Path, raw: bytes) -> None:
    path = scratch / "settings.json"
    path.write_bytes(raw)
    try:
        read_settings(path)
    except ConfigError:
        pass


@FUZZ
@given(raw=st.one_of(BYTES, json_values.map(lambda v: json.dumps(v).encode()), any_text.map(str.encode)))
@example(raw=b'{"env": {"A": "\\ud800"}}')
def test_claude_settings_read_or_raise_a_config_error(scratch, raw):
    _read_claude_settings(scratch, raw)


def test_deeply_nested_claude_settings_raise_a_config_error(scratch):
    path = scratch / "settings.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        read_settings(path)


# --- the credentials a source hands back ---------------------------------------------------------


@FUZZ
@given(values=st.tuples(odd_text, odd_text, odd_text), expiration=st.floats(allow_nan=False))
def test_credentials_from_any_source_are_checked_before_they_are_kept(values, expiration):
    from cred_export.chain import as_credentials
    from cred_export.credentials import Keys

    try:
        creds = as_credentials(Keys(*values, expiration))
    except CredExportError:
        return
    assert record.decode(record.encode(creds)) == creds
    creds.expiration_iso  # noqa: B018  (renders)
