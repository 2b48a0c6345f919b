"""The Bedrock stand-in the Claude Code tests talk to, checked against botocore's own client code.

Its event stream encoding is read back with botocore's parser, its runtime answers with the
`bedrock-runtime` client, and its signature checks with requests signed by botocore (and Bedrock
API keys made by aws-bedrock-token-generator) from credentials moto really issued: each wrong
piece is refused with the error AWS answers.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import boto3
import pytest
from aws_bedrock_token_generator import BedrockTokenGenerator
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError
from harness import event_stream
from harness.aws_signature import Refused, issued_by, verify_api_key
from harness.bedrock_server import BedrockServer, application_arn

REGION = "us-east-1"
MODEL = "global.anthropic.claude-sonnet-4-6"
BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture(scope="module")
def _bedrock(_proxy) -> Iterator[BedrockServer]:  # type: ignore[no-untyped-def]
    server = BedrockServer(credentials=issued_by(_proxy))
    yield server
    server.close()


@pytest.fixture
def bedrock(_bedrock: BedrockServer) -> BedrockServer:
    _bedrock.reset()
    return _bedrock


@pytest.fixture
def issued(sts) -> Credentials:  # type: ignore[no-untyped-def]
    """Credentials moto issued (AssumeRole through the STS proxy, which remembers them)."""
    client = boto3.client(
        "sts",
        endpoint_url=sts.url,
        region_name=REGION,
        aws_access_key_id="AKIAEXAMPLEROOTKEY01",
        aws_secret_access_key="root-secret",
    )
    answer = client.assume_role(RoleArn="arn:aws:iam::123456789012:role/bedrock", RoleSessionName="tests")
    creds = answer["Credentials"]
    assert creds["AccessKeyId"] in sts.issued
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def client(service: str, bedrock: BedrockServer, creds: Credentials, **config: object):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=bedrock.url,
        region_name=REGION,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=Config(retries={"max_attempts": 1}, **config),  # type: ignore[arg-type]
    )


def post(bedrock: BedrockServer, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(bedrock.url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


# --------------------------------------------------------------------------- the event stream


def test_botocores_parser_reads_every_message_back_whole_or_in_pieces():
    messages = [
        (
            {":event-type": "chunk", ":message-type": "event"},
            b'{"bytes": "eyJ0eXBlIjogIm1lc3NhZ2Vfc3RvcCJ9"}',
        ),
        ({"name": "ünïcødé ✓", "empty": ""}, "naïve ☃".encode()),
        ({}, b""),
        ({"h": "v" * 300}, bytes(range(256)) * 300),
    ]
    encoded = b"".join(event_stream.encode_message(headers, payload) for headers, payload in messages)
    for size in (len(encoded), 1, 7, 4096):
        buffer = EventStreamBuffer()
        decoded = []
        for offset in range(0, len(encoded), size):
            buffer.add_data(encoded[offset : offset + size])
            decoded += [(m.headers, m.payload) for m in buffer]
        assert decoded == messages


@pytest.mark.parametrize("where", [4, 9, 20, -1])  # headers length, prelude CRC, a header, message CRC
def test_a_corrupted_byte_fails_botocores_checksums(where):
    message = bytearray(event_stream.encode_message({"a": "b"}, b"payload"))
    message[where] ^= 0x01
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(message))
    with pytest.raises((ChecksumMismatch, ValueError)):
        list(buffer)


def test_headers_beyond_the_format_are_refused():
    with pytest.raises(ValueError):
        event_stream.encode_message({"n" * 256: "v"}, b"")
    with pytest.raises(ValueError):
        event_stream.encode_message({"": "v"}, b"")
    with pytest.raises(ValueError):
        event_stream.encode_message({"n": "v" * 32768}, b"")


# --------------------------------------------------------------------------- the runtime


def test_invoke_model_answers_a_messages_response(bedrock, issued):
    bedrock.reply_text = "one two three four"
    runtime = client("bedrock-runtime", bedrock, issued)
    answer = json.loads(runtime.invoke_model(modelId=MODEL, body=json.dumps(BODY))["body"].read())
    assert answer["content"] == [{"type": "text", "text": "one two three four"}]
    assert answer["stop_reason"] == "end_turn" and answer["model"] == MODEL
    probe = json.loads(
        runtime.invoke_model(modelId=MODEL, body=json.dumps({**BODY, "max_tokens": 1}))["body"].read()
    )
    assert probe["content"][0]["text"] == "one" and probe["stop_reason"] == "max_tokens"
    assert [(r.operation, r.key_id, r.scheme) for r in bedrock.requests] == [
        ("InvokeModel", issued.access_key, "sigv4")
    ] * 2


def test_the_stream_is_an_event_stream_botocore_decodes_into_anthropic_events(bedrock, issued):
    bedrock.reply_text = "streamed, word by word"
    runtime = client("bedrock-runtime", bedrock, issued)
    model = application_arn("a1b2c3d4e5f6", REGION)  # an ARN: encoded in the path, then signed encoded again
    answer = runtime.invoke_model_with_response_stream(modelId=model, body=json.dumps(BODY))
    assert answer["contentType"] == "application/json"
    events = [json.loads(part["chunk"]["bytes"]) for part in answer["body"]]
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == "streamed, word by word"
    assert events[0]["message"]["model"] == model
    assert "amazon-bedrock-invocationMetrics" in events[-1]
    assert bedrock.requests[0].model == model


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({**BODY, "anthropic_version": "2023-06-01"}).encode(),
        json.dumps({**BODY, "max_tokens": 0}).encode(),
        json.dumps({**BODY, "messages": []}).encode(),
    ],
)
def test_a_body_that_is_no_messages_request_is_a_validation_error(bedrock, issued, body):
    runtime = client("bedrock-runtime", bedrock, issued)
    with pytest.raises(ClientError) as refused:
        runtime.invoke_model(modelId=MODEL, body=body)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_an_unknown_operation_is_404(bedrock, issued):
    status, headers, _ = post(bedrock, "/model/x/converse", {}, b"{}")
    assert status == 404 and headers["x-amzn-ErrorType"].startswith("UnknownOperationException")


# --------------------------------------------------------------------------- SigV4 signatures


def test_a_request_signed_with_the_issued_secret_passes(bedrock, issued):
    listed = client("bedrock", bedrock, issued).list_inference_profiles()["inferenceProfileSummaries"]
    assert len(listed) == 3
    assert bedrock.refusals == []


def refused_code(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return refused.value.response["Error"]["Code"]


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (lambda c: Credentials(c.access_key, c.secret_key[::-1], c.token), "InvalidSignatureException"),
        (lambda c: Credentials("ASIAUNKNOWNKEY000001", c.secret_key, c.token), "UnrecognizedClientException"),
        (
            lambda c: Credentials(c.access_key, c.secret_key, c.token[:-4] + "AAAA"),
            "UnrecognizedClientException",
        ),
        (lambda c: Credentials(c.access_key, c.secret_key, None), "UnrecognizedClientException"),
    ],
    ids=["wrong-secret", "unknown-key", "wrong-session-token", "no-session-token"],
)
def test_anything_but_the_issued_credentials_is_refused(bedrock, issued, spoil, code):
    runtime = client("bedrock-runtime", bedrock, spoil(issued))
    assert refused_code(lambda: runtime.invoke_model(modelId=MODEL, body=json.dumps(BODY))) == code
    assert bedrock.requests == []
    assert [(r.operation, r.error_type) for r in bedrock.refusals] == [("InvokeModel", code)]


def test_expired_credentials_are_refused(bedrock, issued, sts):
    sts.issued[issued.access_key] = replace(sts.issued[issued.access_key], expires_at=1.0)
    runtime = client("bedrock-runtime", bedrock, issued)
    assert (
        refused_code(lambda: runtime.invoke_model(modelId=MODEL, body=json.dumps(BODY)))
        == "ExpiredTokenException"
    )


def test_a_signature_for_another_service_is_refused(bedrock, issued):
    signed_for_lambda = _signed_headers(issued, "lambda", bedrock.url + "/inference-profiles")
    status, headers, _ = _get(bedrock, "/inference-profiles", signed_for_lambda)
    assert status == 403 and headers["x-amzn-ErrorType"].startswith("InvalidSignatureException")
    assert bedrock.requests == []


def test_a_changed_body_or_a_stale_signature_is_refused(bedrock, issued, monkeypatch):
    body = json.dumps(BODY).encode()
    path = f"/model/{MODEL}/invoke"
    headers = _signed_headers(issued, "bedrock", bedrock.url + path, body, method="POST")
    status, _, _ = post(bedrock, path, headers, body)
    assert status == 200  # as signed
    status, _, _ = post(bedrock, path, headers, body.replace(b"hi", b"ho"))
    assert status == 403
    import botocore.auth

    real_now = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: real_now() - _minutes(16))
    stale = _signed_headers(issued, "bedrock", bedrock.url + path, body, method="POST")
    status, headers, _ = post(bedrock, path, stale, body)
    assert status == 403 and headers["x-amzn-ErrorType"].startswith("InvalidSignatureException")
    assert [r.error_type for r in bedrock.refusals] == ["InvalidSignatureException"] * 2
    assert len(bedrock.requests) == 1


def test_an_unsigned_request_is_refused(bedrock):
    status, headers, _ = post(bedrock, f"/model/{MODEL}/invoke", {}, json.dumps(BODY).encode())
    assert status == 403 and headers["x-amzn-ErrorType"].startswith("MissingAuthenticationTokenException")


def _minutes(n: int):  # type: ignore[no-untyped-def]
    import datetime

    return datetime.timedelta(minutes=n)


def _signed_headers(
    creds: Credentials, service: str, url: str, body: bytes = b"", method: str = "GET"
) -> dict[str, str]:
    """The headers botocore's signer adds to `method url` when signing for `service`."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(creds, service, REGION).add_auth(request)
    return dict(request.headers.items())


def _get(bedrock: BedrockServer, path: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(bedrock.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


# --------------------------------------------------------------------------- Bedrock API keys


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def test_an_api_key_made_from_issued_credentials_passes(bedrock, issued):
    token = BedrockTokenGenerator().get_token(issued, REGION)
    status, _, answer = post(bedrock, f"/model/{MODEL}/invoke", bearer(token), json.dumps(BODY).encode())
    assert status == 200, answer
    assert [(r.key_id, r.region, r.scheme) for r in bedrock.requests] == [
        (issued.access_key, REGION, "api-key")
    ]


def _with_signature_flipped(token: str) -> str:
    url = base64.b64decode(token.removeprefix("bedrock-api-key-")).decode()
    head, _, signature = url.removesuffix("&Version=1").partition("X-Amz-Signature=")
    spoiled = head + "X-Amz-Signature=" + signature[::-1] + "&Version=1"
    return "bedrock-api-key-" + base64.b64encode(spoiled.encode()).decode()


@pytest.mark.parametrize(
    "make",
    [
        lambda c: BedrockTokenGenerator().get_token(
            Credentials(c.access_key, c.secret_key[::-1], c.token), REGION
        ),
        lambda c: _with_signature_flipped(BedrockTokenGenerator().get_token(c, REGION)),
        lambda c: BedrockTokenGenerator().get_token(
            Credentials("ASIAUNKNOWNKEY000001", c.secret_key, c.token), REGION
        ),
        lambda c: "bedrock-api-key-" + "not base64!",
        lambda c: "bedrock-api-key-" + base64.b64encode(b"bedrock.amazonaws.com/?Action=Other").decode(),
        lambda c: "ABSKQmVkcm9ja0FQSUtleS1sb25nLXRlcm0ta2V5",
    ],
    ids=["wrong-secret", "changed-signature", "unknown-key", "not-base64", "not-a-key-url", "long-term-form"],
)
def test_any_other_api_key_is_refused(bedrock, issued, make):
    status, headers, _ = post(
        bedrock, f"/model/{MODEL}/invoke", bearer(make(issued)), json.dumps(BODY).encode()
    )
    assert status == 403 and headers["x-amzn-ErrorType"].startswith("UnrecognizedClientException")
    assert bedrock.requests == [] and len(bedrock.refusals) == 1


def test_an_expired_api_key_is_refused(sts, issued):
    token = BedrockTokenGenerator().get_token(issued, REGION)
    lookup = issued_by(sts)
    assert verify_api_key(token, service="bedrock", lookup=lookup).key_id == issued.access_key
    with pytest.raises(Refused) as refused:
        verify_api_key(token, service="bedrock", lookup=lookup, now=_expiry(token) + 1)
    assert refused.value.error_type == "AccessDeniedException"


def _expiry(token: str) -> float:
    import calendar
    import time
    from urllib.parse import parse_qs, urlsplit

    url = base64.b64decode(token.removeprefix("bedrock-api-key-")).decode()
    query = {k: v[0] for k, v in parse_qs(urlsplit("https://" + url).query).items()}
    signed = calendar.timegm(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    return signed + int(query["X-Amz-Expires"])
