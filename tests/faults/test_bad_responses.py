"""Malformed answers from STS, the SSO portal, SSO-OIDC and OpenID Providers: every one becomes
usable credentials or an UpstreamError (one line, exit 4) — in-process and property-based, then
a few end to end through the CLI."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, unescape

import jwt
import pytest
from botocore.utils import parse_timestamp
from cryptography.hazmat.primitives.asymmetric import rsa
from faultkit import START_URL, assert_one_line, seed_sso_token, timed_run, write_sso_config
from faulty import Answer, FaultyUpstream
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from inputs import any_text, environment, json_object_with, json_values, odd_text

from cred_export.aws import sts as sts_calls
from cred_export.chain import as_credentials
from cred_export.credentials import LATEST_TIME, Credentials, Keys
from cred_export.errors import CredExportError, LoginRequired, UpstreamError
from cred_export.idp import oidc
from cred_export.idp.oidc_session import _validated, keep, session_keys
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


def _outcome(call: Callable[[], Any]) -> Any:
    """What `call()` returns, or the expected failure it raises; anything else fails the test."""
    try:
        value = call()
    except CredExportError as exc:
        event(f"refused: {type(exc).__name__}")
        return exc
    event("accepted")
    return value


def _single_line(value: object) -> bool:
    return isinstance(value, str) and value != "" and "\n" not in value and "\r" not in value


def _refusal(outcome: object, kinds: type | tuple[type, ...], *names: str) -> str:
    """The error a refused answer became: of `kinds`, one line, naming the call (one of `names`)."""
    assert isinstance(outcome, kinds), f"expected {kinds}, got {outcome!r}"
    line = str(outcome)
    assert _single_line(line), repr(line)
    assert any(name in line for name in names), f"{line!r} names none of {names}"
    return line


# --- STS --------------------------------------------------------------------------------------

_xml_value = st.one_of(odd_text.map(lambda t: escape(t.replace("\x00", ""))), st.just("2030-01-01T00:00:00Z"))
# Values a service could really send (secrets hold /, + and =), so that answers are often complete.
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+="
_key_text = st.text(alphabet=_KEY_ALPHABET, min_size=1, max_size=60)
_TIMES = ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.250Z", "2030-01-01T02:00:00+02:00")
_STS_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
_sts_fields = st.one_of(
    st.dictionaries(st.sampled_from(_STS_FIELDS), _xml_value),
    st.fixed_dictionaries(
        {
            "AccessKeyId": _key_text,
            "SecretAccessKey": _key_text,
            "SessionToken": _key_text,
            "Expiration": st.sampled_from(_TIMES),
        }
    ),
)


def _sts_document(fields: dict[str, str], wrapper: str) -> bytes:
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    body = f"<{wrapper}><Credentials>{inner}</Credentials></{wrapper}>"
    return f'<AssumeRoleResponse xmlns="{_STS_NS}">{body}</AssumeRoleResponse>'.encode()


_ASSUMED = "AssumeRoleResult"


def _sts_answer(fields: dict[str, str], wrapper: str = _ASSUMED) -> tuple[int, bytes, dict[str, str] | None]:
    """(status, body, the credentials it carries); None where the answer carries none."""
    return 200, _sts_document(fields, wrapper), fields if wrapper == _ASSUMED else None


_sts_answers = st.one_of(
    st.builds(_sts_answer, _sts_fields, st.sampled_from([_ASSUMED, "X"])),
    st.tuples(st.sampled_from([200, 400]), st.binary(max_size=200), st.none()),
    st.tuples(
        st.just(400),
        st.tuples(_xml_value, _xml_value).map(
            lambda cm: (
                f"<ErrorResponse><Error><Code>{cm[0]}</Code><Message>{cm[1]}</Message></Error></ErrorResponse>".encode()
            )
        ),
        st.none(),
    ),
)


@FUZZ
@given(answer=_sts_answers)
@example(answer=_sts_answer({"AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "t"}))
@example(
    answer=_sts_answer(
        {"AccessKeyId": "A", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "never"}
    )
)
@example(
    answer=_sts_answer(
        {
            "AccessKeyId": "A\nB",
            "SecretAccessKey": "s",
            "SessionToken": "t",
            "Expiration": "2030-01-01T00:00:00Z",
        }
    )
)
@example(
    answer=_sts_answer(
        {
            "AccessKeyId": "A",
            "SecretAccessKey": "s",
            "SessionToken": "t",
            "Expiration": "99999-01-01T00:00:00Z",
        }
    )
)
@example(
    answer=_sts_answer(
        {
            "AccessKeyId": "A&amp;B",
            "SecretAccessKey": "s",
            "SessionToken": "t",
            "Expiration": "2030-01-01T00:00:00Z",
        }
    )
)
def test_sts_answers_become_credentials_or_an_upstream_error(front, answer):
    status, body, said = answer
    _answering(front, status, body, "text/xml")
    keys = Keys("AKIAFUZZFUZZFUZZFUZZ", "secret")
    role = "arn:aws:iam::123456789012:role/r"
    outcome = _outcome(
        lambda: as_credentials(sts_calls.assume_role(keys, role, signer_profile="p", target_profile="p"))
    )
    if not isinstance(outcome, Credentials):
        _refusal(outcome, UpstreamError, "STS AssumeRole", "credentials obtained are malformed")
        assert not _plainly_complete(said), "a complete, well-formed answer was refused"
        return
    # Handed out only when the service said all of it, and exactly what it said.
    assert said is not None and set(said) == set(_STS_FIELDS)
    assert outcome.access_key_id == unescape(said["AccessKeyId"])
    assert outcome.secret_access_key == unescape(said["SecretAccessKey"])
    assert outcome.session_token == unescape(said["SessionToken"])
    assert outcome.expiration == parse_timestamp(unescape(said["Expiration"])).timestamp()
    assert outcome.assumed_expiry is False


def _plainly_complete(said: dict[str, str] | None) -> bool:
    """Whether an STS answer carries every field, with plain keys and a time as AWS writes it."""
    return (
        said is not None
        and set(said) == set(_STS_FIELDS)
        and said["Expiration"] in _TIMES
        and all(said[name] and set(said[name]) <= set(_KEY_ALPHABET) for name in _STS_FIELDS[:3])
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
_complete_role_credentials = st.fixed_dictionaries(
    {
        "accessKeyId": _key_text,
        "secretAccessKey": _key_text,
        "sessionToken": _key_text,
        "expiration": st.one_of(st.integers(1, 2 * 10**14), st.floats(-1e15, 1e15)),  # milliseconds
    }
)
_portal_answers = st.one_of(
    st.one_of(_role_credentials, _complete_role_credentials).map(lambda rc: {"roleCredentials": rc}),
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
@example(
    document={
        "roleCredentials": {
            "accessKeyId": "A",
            "secretAccessKey": "s",
            "sessionToken": "t",
            "expiration": 1_900_000_000_123,
        }
    },
    status=200,
)
@example(  # an expiry of 0 is the epoch, not "unknown": refused, not handed out for an hour
    document={
        "roleCredentials": {
            "accessKeyId": "0",
            "secretAccessKey": "0",
            "sessionToken": "0",
            "expiration": 0.5,
        }
    },
    status=200,
)
@example(
    document={
        "roleCredentials": {
            "accessKeyId": "A",
            "secretAccessKey": "s",
            "sessionToken": "t",
            "expiration": 1.9e12 + 0.5,
        }
    },
    status=200,
)
def test_sso_portal_answers_become_credentials_or_an_upstream_error(front, document, status):
    _with_valid_sso_token()
    _answering(front, status, json.dumps(document).encode(), "application/json")
    outcome = _outcome(lambda: as_credentials(_SSO_ROOT.credentials(NullStore())))
    said = document.get("roleCredentials") if status == 200 and isinstance(document, dict) else None
    if not isinstance(outcome, Credentials):
        _refusal(outcome, (UpstreamError, LoginRequired), "SSO GetRoleCredentials", "malformed", "login")
        assert not _complete_role_credentials(said), "a complete, well-formed answer was refused"
        return
    # Handed out only when the portal said all of it, and exactly what it said (expiry in ms).
    assert isinstance(said, dict)
    assert outcome.access_key_id == said["accessKeyId"]
    assert outcome.secret_access_key == said["secretAccessKey"]
    assert outcome.session_token == said["sessionToken"]
    assert outcome.expiration == int(said["expiration"]) / 1000  # a Long: botocore drops any fraction
    assert outcome.assumed_expiry is False


def _complete_role_credentials(said: object) -> bool:
    """Whether the portal's `roleCredentials` are all there, one line each, with a possible expiry."""
    if not isinstance(said, dict):
        return False
    values = [said.get(name) for name in ("accessKeyId", "secretAccessKey", "sessionToken")]
    expiration = said.get("expiration")
    return (
        all(_single_line(value) for value in values)
        and isinstance(expiration, (int, float))
        and 0 < int(expiration) < LATEST_TIME * 1000  # milliseconds, read as a Long
    )


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
# Tokens too big to be read back once saved: refused, never saved to be lost.
@example(document={"accessToken": "x" * 61903, "expiresIn": 3600, "refreshToken": "x" * 200000})
def test_sso_oidc_renewal_answers_become_a_token_or_an_upstream_error(front, document):
    Path(tokens.path_for(_SSO)).unlink(missing_ok=True)
    _answering(front, 200, json.dumps(document).encode(), "application/json")
    registered_until = float(int(time.time()) + 3600)  # whole seconds, as the token file keeps it
    token = SsoToken(
        START_URL, "us-east-1", "aoa", time.time() + 60, "client", "secret", registered_until, "aor"
    )

    def renew_and_keep() -> SsoToken:
        renewed = sso_oidc.refresh(_SSO, token)
        tokens.save(_SSO, renewed)
        return renewed

    before = time.time()
    outcome = _outcome(renew_and_keep)
    after = time.time()
    if not isinstance(outcome, SsoToken):
        line = _refusal(outcome, UpstreamError, "SSO-OIDC", "IAM Identity Center")
        assert not _usable_token_answer(document) or "too large" in line, (
            f"a usable answer was refused: {line}"
        )
        assert tokens.load(_SSO) is None  # nothing half-kept
        return
    # Renewed only from an access token and a whole-second lifetime, and exactly with what came.
    assert _usable_token_answer(document)
    lifetime = min(max(document.get("expiresIn", 3600), 0), sso_oidc.MAX_TOKEN_LIFETIME)
    assert outcome.access_token == document["accessToken"]
    assert before + lifetime <= outcome.expires_at <= after + lifetime
    said_refresh = document.get("refreshToken")
    assert outcome.refresh_token == (
        said_refresh if isinstance(said_refresh, str) and said_refresh else "aor"
    )
    assert (outcome.client_id, outcome.client_secret) == ("client", "secret")
    assert outcome.registration_expires_at == registered_until
    # What was kept reads back as the same token (the file keeps whole seconds).
    kept = tokens.load(_SSO)
    assert kept is not None and abs(kept.expires_at - outcome.expires_at) < 1
    assert replace(kept, expires_at=outcome.expires_at) == outcome


def _usable_token_answer(document: object) -> bool:
    """Whether an SSO-OIDC CreateToken answer holds an access token and a whole-second lifetime."""
    if not isinstance(document, dict):
        return False
    access_token, lifetime = document.get("accessToken"), document.get("expiresIn", 3600)
    return isinstance(access_token, str) and access_token != "" and isinstance(lifetime, int)


# --- OpenID Providers ---------------------------------------------------------------------------

_odd_discovery = json_object_with(
    {
        "issuer": st.sampled_from(["ISSUER", "http://elsewhere"]),
        "authorization_endpoint": st.one_of(st.just("ISSUER/authorize"), odd_text, st.integers()),
        "token_endpoint": st.one_of(st.just("ISSUER/token"), odd_text, st.integers()),
        "jwks_uri": st.one_of(st.just("ISSUER/jwks"), odd_text),
        "device_authorization_endpoint": odd_text,
        "id_token_signing_alg_values_supported": st.one_of(st.lists(odd_text), odd_text, st.integers()),
    }
)
_complete_discovery = st.fixed_dictionaries(
    {
        "issuer": st.just("ISSUER"),
        "authorization_endpoint": st.just("ISSUER/authorize"),
        "token_endpoint": st.just("ISSUER/token"),
        "jwks_uri": st.just("ISSUER/jwks"),
    },
    optional={
        "device_authorization_endpoint": st.just("ISSUER/device"),
        "id_token_signing_alg_values_supported": st.lists(
            st.sampled_from(["RS256", "ES256", "PS512", "EdDSA", "HS256", "none", "rs256"]), max_size=4
        ),
    },
)
_discovery = st.one_of(_odd_discovery, _complete_discovery)


def _host(front: FaultyUpstream) -> str:
    """The provider as its errors name it: by URL, or by host and port."""
    return front.url.split("://", 1)[1]


def _oidc_profile(front: FaultyUpstream):  # type: ignore[no-untyped-def]
    raw = {"source": "oidc", "issuer": front.url, "client_id": "c", "role_arn": "arn:aws:iam::1:role/r"}
    return parse_oidc("corp", raw)


def _with_issuer(document: object, issuer: str) -> bytes:
    return json.dumps(document).replace("ISSUER", issuer).encode()


@FUZZ
@given(document=st.one_of(_discovery, json_values), status=st.sampled_from([200, 404, 500]))
@example(
    document={
        "issuer": "ISSUER",
        "authorization_endpoint": "ISSUER/authorize",
        "token_endpoint": "ISSUER/token",
        "jwks_uri": "ISSUER/jwks",
        "id_token_signing_alg_values_supported": ["HS256", "ES256", "none", "RS256"],
    },
    status=200,
)
def test_discovery_documents_become_a_provider_or_an_upstream_error(front, document, status):
    body = _with_issuer(document, front.url)
    _answering(front, status, body, "application/json")
    outcome = _outcome(lambda: oidc.discover(_oidc_profile(front)))
    if not isinstance(outcome, oidc.Provider):
        # UpstreamError; ConfigError for an endpoint not https
        _refusal(outcome, CredExportError, _host(front))  # naming the provider
        return
    # A provider only from a 200 naming this issuer, with exactly the endpoints it named.
    said = json.loads(body)
    assert status == 200 and said["issuer"] == front.url == outcome.issuer
    assert outcome.authorization_endpoint == said["authorization_endpoint"]
    assert outcome.token_endpoint == said["token_endpoint"]
    assert outcome.jwks_uri == said["jwks_uri"]
    assert outcome.device_authorization_endpoint == said.get("device_authorization_endpoint")
    # Only asymmetric algorithms it offers, in its order; RS256 when it offers none of them.
    offered = said.get("id_token_signing_alg_values_supported", ["RS256"])
    safe = tuple(a for a in offered if a in oidc._SAFE_ALGORITHMS)
    assert outcome.algorithms == (safe or ("RS256",))
    assert not {"none", "HS256", "HS384", "HS512"} & set(outcome.algorithms)


_SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_RIGHT_KEYS = "the provider's signing keys"


def _key_set() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_SIGNING_KEY.public_key()))
    return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}


@dataclass(frozen=True)
class _Signed:
    """An id_token to sign with the provider's key when the test runs (the issuer is known then)."""

    claims: dict[str, Any]

    def token(self, issuer: str, now: float) -> str:
        claims = {**self.claims, "iat": int(now), "exp": int(now) + self.claims["exp"]}
        claims["iss"] = issuer if claims["iss"] == "ISSUER" else claims["iss"]
        return jwt.encode(claims, _SIGNING_KEY, algorithm="RS256", headers={"kid": "k1"})

    def valid_for(self, client_id: str) -> bool:
        audiences = self.claims["aud"] if isinstance(self.claims["aud"], list) else [self.claims["aud"]]
        return (
            self.claims["iss"] == "ISSUER"
            and self.claims["exp"] > 0
            and "sub" in self.claims
            and client_id in audiences
            and (len(audiences) == 1 or self.claims.get("azp") == client_id)
        )


_VALID_CLAIMS = {"iss": "ISSUER", "aud": "c", "exp": 3600, "sub": "user"}
_signed = st.builds(
    _Signed,
    st.one_of(
        st.just(_VALID_CLAIMS),
        st.fixed_dictionaries(
            {
                "iss": st.sampled_from(["ISSUER", "http://elsewhere"]),
                "aud": st.sampled_from(["c", "other", ["c", "other"]]),
                "exp": st.sampled_from([3600, -3600]),  # seconds from now
            },
            optional={
                "sub": st.sampled_from(["user", "u@example.com"]),
                "azp": st.sampled_from(["c", "other"]),
            },
        ),
    ),
)


class _KeptTexts:
    """A store that keeps what it is given, to read back what was kept."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def put_text(self, key: str, text: str) -> None:
        self.texts[key] = text


@FUZZ
@given(
    response=st.one_of(
        json_object_with(
            {"id_token": st.one_of(odd_text, st.just("a.b.c"), _signed), "refresh_token": odd_text}
        ),
        st.fixed_dictionaries(
            {"id_token": _signed}, optional={"refresh_token": st.one_of(_key_text, odd_text)}
        ),
    ),
    jwks=st.one_of(
        st.just(_RIGHT_KEYS),
        st.one_of(json_values, json_object_with({"keys": st.lists(json_values, max_size=2)})),
    ),
)
@example(response={"id_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig"}, jwks={"keys": "nope"})
@example(
    response={
        "id_token": _Signed({"iss": "ISSUER", "aud": "c", "exp": 3600, "sub": "u"}),
        "refresh_token": "r",
    },
    jwks=_RIGHT_KEYS,
)
@example(
    response={
        "id_token": _Signed({"iss": "ISSUER", "aud": ["c", "other"], "exp": 3600, "sub": "u", "azp": "c"})
    },
    jwks=_RIGHT_KEYS,
)
@example(
    response={"id_token": _Signed({"iss": "ISSUER", "aud": "c", "exp": 3600, "sub": "u"})},
    jwks={"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]},
)
def test_token_answers_become_an_id_token_or_an_upstream_error(front, response, jwks):
    now = time.time()
    signed = response.get("id_token")
    if isinstance(signed, _Signed):
        response = {**response, "id_token": signed.token(front.url, now)}
    right_keys = jwks == _RIGHT_KEYS
    _answering(front, 200, json.dumps(_key_set() if right_keys else jwks).encode(), "application/json")
    provider = oidc.Provider(front.url, front.url, front.url, front.url + "/jwks", None, ("RS256",))
    profile = _oidc_profile(front)
    store = _KeptTexts()

    def validate_and_keep() -> None:
        keep(store, profile, _validated(profile, provider, response, nonce=None, refresh_token=None))  # type: ignore[arg-type]

    valid = right_keys and isinstance(signed, _Signed) and signed.valid_for(profile.client_id)
    outcome = _outcome(validate_and_keep)
    if outcome is not None:
        _refusal(outcome, UpstreamError, _host(front))
        assert not valid, f"a valid id_token was refused: {outcome}"
        assert store.texts == {}
        return
    # Kept only when signed by the provider's key for this client, and exactly as it came.
    assert valid
    refresh_key, id_token_key = session_keys(profile)
    refresh = response.get("refresh_token")
    assert store.texts.pop(id_token_key) == f"{int(now) + 3600}\n{response['id_token']}"
    assert store.texts == ({refresh_key: str(refresh)} if refresh else {})


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
