"""Hypothesis strategies for hostile input: config files, TOML, JSON, XML, profile names."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import strategies as st

from cred_export.idp.profiles import OIDC_KEYS, SAML_KEYS

# Text as it comes from files and the network: any code point a UTF-8 file can carry,
# control characters, newlines and NULs included.
any_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
long_text = st.integers(min_value=1_000, max_value=200_000).map(lambda n: "x" * n)
odd_text = st.one_of(
    any_text,
    long_text,
    st.sampled_from(["", " ", "\n", "\r\n", "\x00", "[", "]", "=", "%(x)s", "${HOME}", "\\", '"', "'"]),
)
path_tricks = st.sampled_from(
    ["..", ".", "../../etc/passwd", "a/b", "/abs", "~", "~root", "$HOME", "-p", "--debug", "a\nb", "a b"]
)
profile_names = st.one_of(path_tricks, any_text.filter(bool), st.text(min_size=1, max_size=5000))

AWS_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "role_arn",
    "source_profile",
    "credential_source",
    "external_id",
    "role_session_name",
    "duration_seconds",
    "mfa_serial",
    "region",
    "sso_session",
    "sso_start_url",
    "sso_region",
    "sso_account_id",
    "sso_role_name",
    "sso_registration_scopes",
    "web_identity_token_file",
)


def ini_section_name(names: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just("default"),
        names.map(lambda n: f"profile {n}"),
        names.map(lambda n: f"sso-session {n}"),
        names,
    )


def ini_document(names: st.SearchStrategy[str] = profile_names) -> st.SearchStrategy[str]:
    """An AWS config or credentials file: sections of key = value lines, some of them odd."""
    line = st.one_of(
        st.tuples(st.sampled_from(AWS_KEYS), odd_text).map(lambda kv: f"{kv[0]} = {kv[1]}"),
        st.tuples(any_text, odd_text).map(lambda kv: f"{kv[0]}={kv[1]}"),
        any_text,
    )
    section = st.tuples(ini_section_name(names), st.lists(line, max_size=6)).map(
        lambda s: f"[{s[0]}]\n" + "\n".join(s[1]) + "\n"
    )
    return st.lists(section, max_size=4).map("".join)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), odd_text, st.just(10**400)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)),
    max_leaves=12,
)


def json_object_with(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict]:
    """Objects holding some of `fields` (each with its own value strategy), or odd values instead."""
    return st.fixed_dictionaries(
        {}, optional={name: st.one_of(strategy, json_values) for name, strategy in fields.items()}
    )


def toml_value(depth: int = 2) -> st.SearchStrategy[str]:
    scalar = st.one_of(
        any_text.map(json.dumps),
        st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(["true", "false", "inf", "nan", "1979-05-27T07:32:00Z", "0x1F", '""']),
    )
    if depth == 0:
        return scalar
    nested = toml_value(depth - 1)
    return st.one_of(
        scalar,
        st.lists(nested, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(toml_keys, nested, max_size=3).map(
            lambda table: "{ " + ", ".join(f"{k} = {v}" for k, v in table.items()) + " }"
        ),
    )


SETTING_NAMES = (
    "cache",
    "refresh_ahead_minutes",
    "keyring_timeout_seconds",
    "keyring_chunk_size",
    "lock_timeout_seconds",
    "login_from_export",
    "login_timeout_seconds",
)
# Every key the profile parser knows, "source" first (the strategies below rely on that).
PROFILE_KEYS = ("source", *sorted((OIDC_KEYS | SAML_KEYS) - {"source"}))
toml_keys = st.one_of(st.sampled_from(SETTING_NAMES + PROFILE_KEYS), any_text.map(json.dumps))


def toml_document() -> st.SearchStrategy[str]:
    """cred-export settings: top-level settings and [profiles.NAME] tables with odd values."""
    top = st.lists(st.tuples(toml_keys, toml_value()), max_size=4)
    source = st.sampled_from(['"oidc"', '"saml"', '"other"', "3"])
    profile = st.tuples(
        profile_names.map(json.dumps),
        source,
        st.lists(st.tuples(st.sampled_from(PROFILE_KEYS[1:]), toml_value(1)), max_size=6),
    )

    def render(parts: tuple) -> str:  # type: ignore[type-arg]
        settings, profiles = parts
        text = "".join(f"{key} = {value}\n" for key, value in dict(settings).items())
        for name, kind, values in profiles:
            text += f"[profiles.{name}]\nsource = {kind}\n"
            text += "".join(f"{key} = {value}\n" for key, value in dict(values).items())
        return text

    return st.tuples(top, st.lists(profile, max_size=2)).map(render)


@contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables for the block, then restore them."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
