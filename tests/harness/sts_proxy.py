"""An HTTP front for moto's STS that enforces what moto does not, and counts calls.

- Counts every STS Action it forwards (so tests can assert single-flight at the server).
- Enforces a role's maximum session duration the way STS does (moto accepts any duration):
  `ValidationError` "The requested DurationSeconds exceeds the MaxSessionDuration set for
  this role."
- Injects faults on request: refuse connections (server stopped), HTTP 500/503, throttling.
- Remembers every credential set moto issues (``issued``, by access key id), so a stand-in
  for a service can check a request's signature against the secret really issued.
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
import xml.etree.ElementTree as ElementTree
from datetime import datetime
from http.server import BaseHTTPRequestHandler

from harness.aws_signature import Issued
from harness.stand_in import StandIn

_ERROR_XML = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>{code}</Code><Message>{message}</Message></Error><RequestId>test</RequestId></ErrorResponse>"
)


class StsProxy(StandIn):
    """STS on 127.0.0.1 in front of moto. The credentials are moto's, which keeps this machine's time."""

    requests: list[dict[str, str]]  # the forms of the calls, with "_signer" (the signing key id)

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.issued: dict[str, Issued] = {}
        super().__init__()

    def _restore_defaults(self) -> None:
        self.max_session_duration = 3600
        self.fault: str | None = None  # None, "close", "500", "503", "throttle", "hang"
        self.delay = 0.0
        self.saml_certificate: bytes | None = None  # set: AssumeRoleWithSAML checks signatures

    def _clear_state(self) -> None:
        self.issued.clear()

    def _check_saml(self, form: dict[str, str]) -> tuple[str | None, str]:
        """What STS checks and moto does not: the signature and that the role pair is granted.

        Returns the refusal (or None) and the assertion narrowed to the chosen role for moto.
        """
        from harness import saml_idp

        try:
            assertion = saml_idp.verify(form.get("SAMLAssertion", ""), self.saml_certificate or b"")
        except Exception:
            return "The SAML assertion signature is not valid", ""
        wanted = f"{form.get('RoleArn')},{form.get('PrincipalArn')}"
        if wanted not in saml_idp.granted_roles(assertion):
            return "The SAML assertion does not grant this role", ""
        return None, saml_idp.single_role_response(form["SAMLAssertion"], wanted)

    def _remember_issued(self, answer: str) -> None:
        for credentials in issued_credentials(answer):
            with self._lock:
                self.issued[credentials.access_key_id] = credentials

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                form = dict(urllib.parse.parse_qsl(body.decode()))
                form["_signer"] = _signing_key_id(self.headers.get("Authorization", ""))
                proxy._record(form.get("Action", "?"), form)
                if proxy.delay:
                    time.sleep(proxy.delay)
                if proxy.fault == "hang":
                    time.sleep(30)
                    return
                if proxy.fault == "close":
                    self.close_connection = True
                    return
                if proxy.fault in ("500", "503"):
                    return self._reply(
                        int(proxy.fault), _ERROR_XML.format(code="InternalFailure", message="boom")
                    )
                if proxy.fault == "throttle":
                    return self._reply(400, _ERROR_XML.format(code="Throttling", message="Rate exceeded"))
                if proxy.fault and proxy.fault[0].isupper():  # any other STS error code, as is
                    return self._reply(
                        400, _ERROR_XML.format(code=proxy.fault, message="Injected by the test")
                    )
                if form.get("Action") == "AssumeRoleWithSAML" and proxy.saml_certificate is not None:
                    refusal, narrowed = proxy._check_saml(form)
                    if refusal:
                        return self._reply(
                            400, _ERROR_XML.format(code="InvalidIdentityToken", message=refusal)
                        )
                    sent = {k: v for k, v in form.items() if k != "_signer"} | {"SAMLAssertion": narrowed}
                    body = urllib.parse.urlencode(sent).encode()
                duration = int(form.get("DurationSeconds", "0") or 0)
                if form.get("Action", "").startswith("AssumeRole") and duration > proxy.max_session_duration:
                    message = (
                        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    )
                    return self._reply(400, _ERROR_XML.format(code="ValidationError", message=message))
                self._forward(body)

            def _forward(self, body: bytes) -> None:
                connection = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=10)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                headers["Host"] = f"127.0.0.1:{proxy.upstream_port}"
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read().decode()
                if response.status == 200:
                    proxy._remember_issued(answer)
                self._reply(response.status, answer, response.getheader("Content-Type"))
                connection.close()

            def _reply(self, status: int, text: str, content_type: str | None = "text/xml") -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type or "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _signing_key_id(authorization: str) -> str:
    """The access key id a SigV4 request was signed with ('' when unsigned)."""
    _, _, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0]


def issued_credentials(answer: str) -> list[Issued]:
    """The credential sets in an STS answer (`<Credentials>` of AssumeRole*, GetSessionToken, …)."""
    try:
        root = ElementTree.fromstring(answer)
    except ElementTree.ParseError:
        return []
    found = []
    for element in root.findall(".//{*}Credentials"):
        fields = {child.tag.rpartition("}")[2]: (child.text or "") for child in element}
        if fields.get("AccessKeyId") and fields.get("SecretAccessKey"):
            expiration = fields.get("Expiration")
            found.append(
                Issued(
                    fields["AccessKeyId"],
                    fields["SecretAccessKey"],
                    fields.get("SessionToken") or None,
                    datetime.fromisoformat(expiration).timestamp() if expiration else None,
                )
            )
    return found
