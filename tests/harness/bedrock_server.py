"""A local stand-in for Amazon Bedrock (moto has neither its control plane nor its runtime).

Point botocore at it with ``AWS_ENDPOINT_URL_BEDROCK`` / ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, and
Claude Code with ``ANTHROPIC_BEDROCK_BASE_URL`` (``server.url``). It speaks the REST-JSON shapes of
botocore's ``bedrock`` (2023-04-20) and ``bedrock-runtime`` (2023-09-30) service models:

- ``GET /inference-profiles`` (ListInferenceProfiles) with the query parameters ``maxResults``
  (1 to 1000), ``nextToken`` and ``type`` (``typeEquals``: ``SYSTEM_DEFINED`` or ``APPLICATION``).
  Without ``type`` only system-defined profiles are listed, as Bedrock does; application inference
  profiles are listed with ``type=APPLICATION``. The answer is ``{"inferenceProfileSummaries":
  [...], "nextToken": "..."}`` (no ``nextToken`` on the last page); each summary carries
  ``inferenceProfileName``, ``description``, ``createdAt``, ``updatedAt``, ``inferenceProfileArn``,
  ``models`` (``modelArn``s), ``inferenceProfileId``, ``status`` and ``type``, with ARNs in the
  region the request was signed for.
- ``POST /model/{modelId}/invoke`` (InvokeModel): an Anthropic Messages request in, one Messages
  response out as JSON, saying ``reply_text`` (cut at ``max_tokens`` words).
- ``POST /model/{modelId}/invoke-with-response-stream`` (InvokeModelWithResponseStream): the same
  message as an AWS event stream (``application/vnd.amazon.eventstream``), one ``chunk`` per
  Anthropic streaming event (see `harness.bedrock_runtime`).
- Who may call: requests must be SigV4-signed for service ``bedrock``. Built with
  ``credentials`` (a lookup from access key id to what STS, the SSO portal or AWS Sign-In issued),
  the server checks every signature and every Bedrock API key (``Authorization: Bearer
  bedrock-api-key-…``) against the secret really issued, by botocore's own signer, and refuses
  everything else with 403 (``refusals`` lists them; see `harness.aws_signature`). Without it,
  signatures are not verified (the server never sees a secret) and only their form is checked.
- Errors carry ``x-amzn-ErrorType`` and a ``{"message": …}`` body, so botocore raises its
  modeled exceptions: ``AccessDeniedException`` (403) when ``deny`` is set,
  ``ValidationException`` (400) for bad parameters or bodies, ``UnknownOperationException`` (404).
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler

from harness import bedrock_runtime, event_stream
from harness.aws_signature import Caller, Lookup, Refused, verify
from harness.stand_in import StandIn

ACCOUNT = "123456789012"
CREATED = "2025-09-29T00:00:00Z"
MAX_RESULTS = 1000
# Regions an inference profile's requests may be routed to (its `models` list).
ROUTES = {
    "global": ("us-east-1", "us-east-2", "us-west-2"),
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-west-1", "eu-west-3"),
}
DEFAULT_PROFILES = (
    "global.anthropic.claude-sonnet-4-6",
    "us.anthropic.claude-sonnet-4-6",
    "us.anthropic.claude-haiku-4-5",
)
DEFAULT_REPLY = "Hello from the Bedrock stand-in."
_RUNTIME_PATH = re.compile(r"^/model/(?P<model>[^/]+)/(?P<action>invoke|invoke-with-response-stream)$")
_RUNTIME_OPERATIONS = {
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
}


@dataclass(frozen=True)
class Request:
    operation: str
    key_id: str
    region: str
    query: dict[str, str]
    model: str = ""  # the runtime's model id, as the path names it (decoded)
    scheme: str = "sigv4"  # or "api-key" (a Bedrock API key as the bearer token)


@dataclass(frozen=True)
class Refusal:
    """A request refused for its credentials: which operation, the error answered, the key id named."""

    operation: str
    error_type: str
    key_id: str


@dataclass(frozen=True)
class ApplicationProfile:
    """A user-created (APPLICATION) inference profile copying a system-defined one."""

    profile_id: str  # e.g. "a1b2c3d4e5f6"
    name: str
    source: str  # the system-defined profile id it copies


class BedrockServer(StandIn):
    """Bedrock and Bedrock Runtime on 127.0.0.1. It issues nothing that expires: the credentials it
    checks are the issuers', judged on this machine's time."""

    requests: list[Request]

    def __init__(self, credentials: Lookup | None = None) -> None:
        self.credentials = credentials
        self.refusals: list[Refusal] = []
        super().__init__()

    def _restore_defaults(self) -> None:
        self.profiles: list[str] = list(DEFAULT_PROFILES)
        self.applications: list[ApplicationProfile] = []
        self.deny = False
        self.page_size = MAX_RESULTS  # the largest page the server returns, whatever is asked
        self.reply_text = DEFAULT_REPLY

    def _clear_state(self) -> None:
        self.refusals.clear()

    def summaries(self, region: str, kind: str) -> list[dict[str, object]]:
        """What ListInferenceProfiles lists in `region` for `kind` (SYSTEM_DEFINED or APPLICATION)."""
        if kind == "APPLICATION":
            return [_application_summary(app, region) for app in self.applications]
        return [_system_summary(profile_id, region) for profile_id in self.profiles]

    def _refuse(self, operation: str, refused: Refused, authorization: str) -> None:
        with self._lock:
            self.refusals.append(Refusal(operation, refused.error_type, _named_key_id(authorization)))

    def _caller(self, method: str, path: str, headers: Message, body: bytes) -> Caller:
        """Who sent an authenticated request; raises `Refused` for anyone else."""
        if self.credentials is not None:
            return verify(method, path, headers, body, service="bedrock", lookup=self.credentials)
        scope = _signing_scope(headers.get("Authorization", ""))
        if scope is None or not headers.get("X-Amz-Date"):
            raise Refused("MissingAuthenticationTokenException", "Missing Authentication Token")
        key_id, region, service = scope
        if service != "bedrock":
            raise Refused(
                "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'."
            )
        return Caller(key_id, region, "sigv4")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/inference-profiles":
                    return self._error(404, "UnknownOperationException", "Unknown operation")
                caller = self._authenticate("ListInferenceProfiles", b"")
                if caller is None:
                    return
                query = dict(urllib.parse.parse_qsl(url.query))
                server._record(
                    "ListInferenceProfiles",
                    Request(
                        "ListInferenceProfiles", caller.key_id, caller.region, query, scheme=caller.scheme
                    ),
                )
                if server.deny:
                    return self._error(
                        403, "AccessDeniedException", _denied_message(caller.key_id, "ListInferenceProfiles")
                    )
                try:
                    page = server._page(caller.region, query)
                except ValueError as exc:
                    return self._error(400, "ValidationException", str(exc))
                self._reply(200, page)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                route = _RUNTIME_PATH.match(urllib.parse.urlsplit(self.path).path)
                if route is None:
                    return self._error(404, "UnknownOperationException", "Unknown operation")
                operation = _RUNTIME_OPERATIONS[route["action"]]
                caller = self._authenticate(operation, body)
                if caller is None:
                    return
                model = urllib.parse.unquote(route["model"])
                server._record(
                    operation,
                    Request(operation, caller.key_id, caller.region, {}, model=model, scheme=caller.scheme),
                )
                if server.deny:
                    return self._error(
                        403, "AccessDeniedException", _denied_message(caller.key_id, operation)
                    )
                try:
                    request = bedrock_runtime.parse(body)
                except bedrock_runtime.BadRequest as exc:
                    return self._error(400, "ValidationException", str(exc))
                if operation == "InvokeModel":
                    return self._reply(200, bedrock_runtime.message(model, request, server.reply_text))
                stream = bedrock_runtime.stream(model, request, server.reply_text)
                self._send(
                    200,
                    stream,
                    event_stream.CONTENT_TYPE,
                    {"X-Amzn-Bedrock-Content-Type": "application/json"},
                )

            def _authenticate(self, operation: str, body: bytes) -> Caller | None:
                try:
                    return server._caller(self.command, self.path, self.headers, body)
                except Refused as refused:
                    server._refuse(operation, refused, self.headers.get("Authorization", ""))
                    self._error(refused.status, refused.error_type, refused.message)
                    return None

            def _error(self, status: int, code: str, message: str) -> None:
                self._reply(status, {"message": message}, error_type=code)

            def _reply(self, status: int, body: dict[str, object], error_type: str | None = None) -> None:
                extra = {}
                if error_type:
                    extra["x-amzn-ErrorType"] = (
                        f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"
                    )
                self._send(status, json.dumps(body).encode(), "application/json", extra)

            def _send(self, status: int, data: bytes, content_type: str, extra: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _page(self, region: str, query: dict[str, str]) -> dict[str, object]:
        kind = query.get("type", "SYSTEM_DEFINED")
        if kind not in ("SYSTEM_DEFINED", "APPLICATION"):
            raise ValueError(
                f"1 validation error detected: Value '{kind}' at 'typeEquals' failed to satisfy constraint"
            )
        size = _max_results(query.get("maxResults"))
        start = _start(query.get("nextToken"))
        items = self.summaries(region, kind)
        end = start + min(size, self.page_size)
        page: dict[str, object] = {"inferenceProfileSummaries": items[start:end]}
        if end < len(items):
            page["nextToken"] = _token(end)
        return page


def _max_results(raw: str | None) -> int:
    if raw is None:
        return MAX_RESULTS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_RESULTS:
        raise ValueError(
            f"1 validation error detected: Value '{raw}' at 'maxResults' failed to satisfy constraint"
        )
    return int(raw)


def _token(offset: int) -> str:
    return f"page-{offset}"


def _start(token: str | None) -> int:
    if token is None:
        return 0
    prefix, _, offset = token.partition("-")
    if prefix != "page" or not offset.isdigit():
        raise ValueError("The pagination token is invalid.")
    return int(offset)


def _signing_scope(authorization: str) -> tuple[str, str, str] | None:
    """(key id, region, service) of a SigV4 Authorization header, or None if it is not one."""
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256" or "Signature=" not in rest or "SignedHeaders=" not in rest:
        return None
    credential = rest.partition("Credential=")[2].split(",", 1)[0]
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not parts[0]:
        return None
    return parts[0], parts[2], parts[3]


def _named_key_id(authorization: str) -> str:
    """The access key id an Authorization header names ('' for none or a bearer token)."""
    scope = _signing_scope(authorization)
    return scope[0] if scope else ""


def _denied_message(key_id: str, operation: str) -> str:
    return (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/caller/{key_id[-4:]} is not authorized to perform:"
        f" bedrock:{operation} on resource: arn:aws:bedrock:*:{ACCOUNT}:inference-profile/*"
        f" because no identity-based policy allows the bedrock:{operation} action"
    )


def _system_summary(profile_id: str, region: str) -> dict[str, object]:
    geo, _, model = profile_id.partition(".")
    return {
        "inferenceProfileName": _display_name(geo, model),
        "description": f"Routes requests to {_display_name('', model).strip()} in {geo.upper()} regions.",
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{profile_id}",
        "models": [
            {"modelArn": f"arn:aws:bedrock:{route}::foundation-model/{model}"}
            for route in ROUTES.get(geo, (region,))
        ],
        "inferenceProfileId": profile_id,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def _application_summary(app: ApplicationProfile, region: str) -> dict[str, object]:
    _, _, model = app.source.partition(".")
    return {
        "inferenceProfileName": app.name,
        "description": f"Application profile for {app.name}",
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "inferenceProfileArn": application_arn(app.profile_id, region),
        "models": [{"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model}"}],
        "inferenceProfileId": app.profile_id,
        "status": "ACTIVE",
        "type": "APPLICATION",
    }


def application_arn(profile_id: str, region: str) -> str:
    return f"arn:aws:bedrock:{region}:{ACCOUNT}:application-inference-profile/{profile_id}"


def _display_name(geo: str, model: str) -> str:
    """`us`, `anthropic.claude-sonnet-4-6` → `US Anthropic Claude Sonnet 4.6`."""
    words: list[str] = [geo.upper() if len(geo) <= 4 else geo.capitalize()] if geo else []
    for word in model.replace(".", "-").split("-"):
        if word.isdigit() and words and words[-1].replace(".", "").isdigit():
            words[-1] += f".{word}"
        else:
            words.append(word if word.isdigit() else word.capitalize())
    return " ".join(words)
