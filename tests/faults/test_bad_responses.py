"""Malformed answers from STS, the SSO portal, SSO-OIDC and OpenID Providers: every one becomes
usable credentials or an UpstreamError (one line, exit 4) — in-process and property-based, then
a few end to end through the CLI."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from faultkit import START_URL, assert_one_line, seed_sso_token, timed_run, write_sso_config
from faulty import Answer, FaultyUpstream
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from inputs import any_text, environment, json_object_with, json_values, odd_text

from cred_export import sts as sts_calls
from cred_export.chain import as_credentials
from cred_export.credentials import Keys
from cred_export.errors import CredExportError
from cred_export.idp import oidc
from cred_export.idp.oidc_session import _validated, keep
from cred_export.idp.profiles import parse_oidc
from cred_export.sources.sso import SsoRoot
from cred_export.sso import oidc as sso_oidc
from cred_export.sso import tokens
from cred_export.sso.settings import SsoSettings
from cred_export.sso.tokens import SsoToken
from cred_export.stores.null_store import NullStore

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
_SSO = SsoSettings("dev", "corp", START_URL, "us-east-1", ("sso:account:access",))
_SSO_ROOT = SsoRoot("dev", _SSO, "123456789012", "Dev")


@pytest.fixture(scope="module")
def front() -> Iterator[FaultyUpstream]:
    server = FaultyUpstream()
    with (
        tempfile.TemporaryDirectory() as home,
        environment(
            HOME=home,
            AWS_CONFIG_FILE=str(Path(home) / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(Path(home) / "credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_ENDPOINT_URL_STS=server.url,
            AWS_ENDPOINT_URL_SSO=server.url,
            AWS_ENDPOINT_URL_SSO_OIDC=server.url,
        ),
    ):
        yield server
    server.close()


def _answering(front: FaultyUpstream, status: int, body: bytes, content_type: str) -> None:
    front.answer = Answer(status, body, {"Content-Type": content_type})


def _accept_or_refuse(call) -> None:  # type: ignore[no-untyped-def]
    """`call()` may succeed or raise an expected failure; nothing else."""
    try:
        call()
    except CredExportError:
        pass


# --- STS --------------------------------------------------------------------------------------

_xml_value = st.one_of(odd_text.map(lambda t: escape(t.replace("\x00", ""))), st.just("2030-01-01T00:00:00Z"))
_sts_fields = st.dictionaries(
    st.sampled_from(["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]), _xml_value
)


def _sts_document(fields: dict[str, str], wrapper: str) -> bytes:
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    body = f"<{wrapper}><Credentials>{inner}</Credentials></{wrapper}>"
    return f'<AssumeRoleResponse xmlns="{_STS_NS}">{body}</AssumeRoleResponse>'.encode()


_sts_answers = st.one_of(
    st.tuples(
        st.just(200), st.builds(_sts_document, _sts_fields, st.sampled_from(["AssumeRoleResult", "X"]))
    ),
    st.tuples(st.sampled_from([200, 400]), st.binary(max_size=200)),
    st.tuples(
        st.just(400),
        st.tuples(_xml_value, _xml_value).map(
            lambda cm: (
                f"<ErrorResponse><Error><Code>{cm[0]}</Code><Message>{cm[1]}</Message></Error></ErrorResponse>".encode()
            )
        ),
    ),
)


@FUZZ
@given(answer=_sts_answers)
@example(
    answer=(
        200,
        _sts_document({"AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "t"}, "AssumeRoleResult"),
    )
)
@example(
    answer=(
        200,
        _sts_document(
            {"AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "never"},
            "AssumeRoleResult",
        ),
    )
)
@example(
    answer=(
        200,
        _sts_document(
            {
                "AccessKeyId": "A\nB",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": "2030-01-01T00:00:00Z",
            },
            "AssumeRoleResult",
        ),
    )
)
@example(
    answer=(
        200,
        _sts_document(
            {
                "AccessKeyId": "A",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": "99999-01-01T00:00:00Z",
            },
            "AssumeRoleResult",
        ),
    )
)
def test_sts_answers_become_credentials_or_an_upstream_error(front, answer):
    _answering(front, *answer, "text/xml")
    keys = Keys("AKIAFUZZFUZZFUZZFUZZ", "secret")
    role = "arn:aws:iam::123456789012:role/r"
    _accept_or_refuse(
        lambda: as_credentials(sts_calls.assume_role(keys, role, signer_profile="p", target_profile="p"))
    )


# --- SSO portal and SSO-OIDC --------------------------------------------------------------------

_role_credentials = json_object_with(
    {
        "accessKeyId": odd_text,
        "secretAccessKey": odd_text,
        "sessionToken": odd_text,
        "expiration": st.one_of(st.integers(), st.floats(allow_nan=False), st.just(10**300)),
    }
)
_portal_answers = st.one_of(
    _role_credentials.map(lambda rc: {"roleCredentials": rc}),
    json_values,
)


def _with_valid_sso_token() -> None:
    token = SsoToken(START_URL, "us-east-1", "aoa-valid-token", time.time() + 3600)
    tokens.save(_SSO, token)


@FUZZ
@given(document=_portal_answers, status=st.sampled_from([200, 400, 401, 403]))
@example(
    document={
        "roleCredentials": {
            "accessKeyId": "A",
            "secretAccessKey": "s",
            "sessionToken": "t",
            "expiration": "soon",
        }
    },
    status=200,
)
@example(
    document={
        "roleCredentials": {"accessKeyId": 5, "secretAccessKey": "s", "sessionToken": "t", "expiration": 1}
    },
    status=200,
)
@example(
    document={
        "roleCredentials": {
            "accessKeyId": "A",
            "secretAccessKey": "s",
            "sessionToken": "t",
            "expiration": 1e300,
        }
    },
    status=200,
)
def test_sso_portal_answers_become_credentials_or_an_upstream_error(front, document, status):
    _with_valid_sso_token()
    _answering(front, status, json.dumps(document).encode(), "application/json")
    _accept_or_refuse(lambda: as_credentials(_SSO_ROOT.credentials(NullStore())))


_token_answers = json_object_with(
    {
        "accessToken": odd_text,
        "expiresIn": st.one_of(st.integers(), st.just(10**30)),
        "refreshToken": odd_text,
        "tokenType": any_text,
    }
)


@FUZZ
@given(document=st.one_of(_token_answers, json_values))
@example(document={"accessToken": "a", "expiresIn": "soon"})
@example(document={"expiresIn": 3600})
def test_sso_oidc_renewal_answers_become_a_token_or_an_upstream_error(front, document):
    _answering(front, 200, json.dumps(document).encode(), "application/json")
    token = SsoToken(
        START_URL, "us-east-1", "aoa", time.time() + 60, "client", "secret", time.time() + 3600, "aor"
    )

    def renew_and_keep() -> None:
        renewed = sso_oidc.refresh(_SSO, token)
        tokens.save(_SSO, renewed)
        assert tokens.load(_SSO) is not None

    _accept_or_refuse(renew_and_keep)


# --- OpenID Providers ---------------------------------------------------------------------------

_discovery = json_object_with(
    {
        "issuer": st.sampled_from(["ISSUER", "http://elsewhere"]),
        "authorization_endpoint": st.one_of(st.just("ISSUER/authorize"), odd_text, st.integers()),
        "token_endpoint": st.one_of(st.just("ISSUER/token"), odd_text, st.integers()),
        "jwks_uri": st.one_of(st.just("ISSUER/jwks"), odd_text),
        "device_authorization_endpoint": odd_text,
        "id_token_signing_alg_values_supported": st.one_of(st.lists(odd_text), odd_text, st.integers()),
    }
)


def _oidc_profile(front: FaultyUpstream):  # type: ignore[no-untyped-def]
    raw = {"source": "oidc", "issuer": front.url, "client_id": "c", "role_arn": "arn:aws:iam::1:role/r"}
    return parse_oidc("corp", raw)


def _with_issuer(document: object, issuer: str) -> bytes:
    return json.dumps(document).replace("ISSUER", issuer).encode()


@FUZZ
@given(document=st.one_of(_discovery, json_values), status=st.sampled_from([200, 404, 500]))
def test_discovery_documents_become_a_provider_or_an_upstream_error(front, document, status):
    _answering(front, status, _with_issuer(document, front.url), "application/json")
    _accept_or_refuse(lambda: oidc.discover(_oidc_profile(front)))


@FUZZ
@given(
    response=json_object_with({"id_token": st.one_of(odd_text, st.just("a.b.c")), "refresh_token": odd_text}),
    jwks=st.one_of(json_values, json_object_with({"keys": st.lists(json_values, max_size=2)})),
)
@example(response={"id_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig"}, jwks={"keys": "nope"})
def test_token_answers_become_an_id_token_or_an_upstream_error(front, response, jwks):
    _answering(front, 200, json.dumps(jwks).encode(), "application/json")
    provider = oidc.Provider(front.url, front.url, front.url, front.url + "/jwks", None, ("RS256",))
    profile = _oidc_profile(front)

    def validate_and_keep() -> None:
        keep(NullStore(), profile, _validated(profile, provider, response, nonce=None, refresh_token=None))

    _accept_or_refuse(validate_and_keep)


# --- end to end ---------------------------------------------------------------------------------

_MALFORMED_STS = {
    "not XML": b"<<<",
    "no credentials": b'<AssumeRoleResponse xmlns="'
    + _STS_NS.encode()
    + b'"><AssumeRoleResult/></AssumeRoleResponse>',
    "no expiry": _sts_document(
        {"AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "t"}, "AssumeRoleResult"
    ),
    "empty key id": _sts_document(
        {
            "AccessKeyId": "",
            "SecretAccessKey": "s",
            "SessionToken": "t",
            "Expiration": "2030-01-01T00:00:00Z",
        },
        "AssumeRoleResult",
    ),
}


@pytest.mark.parametrize("what", list(_MALFORMED_STS))
def test_a_malformed_sts_answer_is_exit_4_with_one_line(sandbox, sts, what):
    upstream = FaultyUpstream()
    upstream.answer = Answer(200, _MALFORMED_STS[what], {"Content-Type": "text/xml"})
    try:
        profile = sandbox.role_chain(depth=1)
        outcome = timed_run(sandbox, "--profile", profile, env={"AWS_ENDPOINT_URL_STS": upstream.url})
    finally:
        upstream.close()
    assert_one_line(
        outcome,
        4,
        "AssumeRole" if what != "empty key id" else "malformed",
    )
    assert sandbox.cached_files() == []


def test_a_malformed_sso_portal_answer_is_exit_4_with_one_line(sso_sandbox, sso):
    upstream = FaultyUpstream()
    upstream.answer = Answer(
        200, b'{"roleCredentials": {"accessKeyId": "A"}}', {"Content-Type": "application/json"}
    )
    write_sso_config(sso_sandbox)
    seed_sso_token(sso_sandbox, sso)
    try:
        outcome = timed_run(sso_sandbox, "--profile", "dev", env={"AWS_ENDPOINT_URL_SSO": upstream.url})
    finally:
        upstream.close()
    assert_one_line(outcome, 4, "SSO GetRoleCredentials", "without complete credentials")
