"""A misbehaving front for the identity services on 127.0.0.1: STS, the SSO portal, SSO-OIDC, IdPs.

It forwards requests to a real test server (the STS proxy, the SSO stand-in) or misbehaves:

- `fault`: "close" (hang up without an answer), "hang" (accept, read, never answer), "500",
  "503", "throttle" (the service's own throttling error), or, for STS, any error code as is
  (e.g. "ThrottlingException"); "trickle" (a 200 whose body comes one byte every
  `TRICKLE_SECONDS`, so that no single read ever times out), "flood" (a 200 of `FLOOD_BYTES`
  without a length, until the client hangs up), "flood-error" (the same as a 400).
  `refused_url` is a port held but not listening: every connection to it is refused, and no
  other server can take it while the front lives.
- `answer`: one fixed reply to every request (malformed responses).
- `skew_seconds`: shifts every `<Expiration>` in forwarded STS answers, as if the service's
  clock and this machine's disagreed.
- `faulty_paths`: faults apply only to requests whose path starts with one of these.

It records every request's arrival and the largest number of requests in flight at once, and
calls `on_request(path)` as each arrives (tests use it to check the cache at that instant).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The error documents each kind of service answers with.
DIALECTS = ("sts", "aws-json", "oauth")
HANG_SECONDS = 60.0
TRICKLE_SECONDS = 2.0
FLOOD_BYTES = 64 << 20
_STS_ERROR = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>{kind}</Type>'
    "<Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
)
_EXPIRATION = re.compile(r"<Expiration>([^<]+)</Expiration>")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def fault_answer(fault: str, dialect: str) -> Answer:
    """The reply a service of `dialect` gives for `fault` ("500", "503", "throttle", or an STS code)."""
    if dialect == "sts":
        return _sts_fault(fault)
    if dialect == "aws-json":
        return _aws_json_fault(fault)
    status = {"500": 500, "503": 503, "throttle": 429}[fault]
    return Answer(status, b"<html><body>upstream trouble</body></html>", {"Content-Type": "text/html"})


def _sts_fault(fault: str) -> Answer:
    if fault in ("500", "503"):
        code, kind, status = "InternalFailure" if fault == "500" else "ServiceUnavailable", "Receiver", fault
    elif fault == "throttle":
        code, kind, status = "Throttling", "Sender", "400"
    else:
        code, kind, status = fault, "Sender", "400"
    body = _STS_ERROR.format(kind=kind, code=code, message="injected fault").encode()
    return Answer(int(status), body, {"Content-Type": "text/xml"})


def _aws_json_fault(fault: str) -> Answer:
    status, error = {
        "500": (500, "InternalServerException"),
        "503": (503, "ServiceUnavailableException"),
        "throttle": (429, "TooManyRequestsException"),
    }[fault]
    body = json.dumps({"message": "injected fault"}).encode()
    return Answer(status, body, {"Content-Type": "application/json", "x-amzn-ErrorType": error})


class FaultyUpstream:
    def __init__(self, target: str | None = None, dialect: str = "sts") -> None:
        assert dialect in DIALECTS
        self.target = urllib.parse.urlsplit(target) if target else None
        self.dialect = dialect
        self.fault: str | None = None
        self.answer: Answer | None = None
        self.skew_seconds = 0
        self.faulty_paths: tuple[str, ...] = ("/",)
        self.on_request: Callable[[str], None] | None = None
        self.arrivals: list[tuple[float, str]] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._refusing = socket.socket()
        self._refusing.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def refused_url(self) -> str:
        return f"http://127.0.0.1:{self._refusing.getsockname()[1]}"

    def attempts(self, path_prefix: str = "/") -> int:
        return sum(1 for _, path in self.arrivals if path.startswith(path_prefix))

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._refusing.close()

    def _arrive(self, path: str) -> None:
        with self._lock:
            self.arrivals.append((time.monotonic(), path))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        if self.on_request is not None:
            self.on_request(path)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _reply_for(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        """The answer to send; None means hang up without one."""
        if self.answer is not None:
            return self.answer
        fault = self.fault if path.startswith(self.faulty_paths) else None
        if fault == "hang":
            self._closing.wait(HANG_SECONDS)
            return None
        if fault == "close":
            return None
        if fault in STREAMED:
            return Answer(400 if fault == "flood-error" else 200, b"", {"X-Stream": fault})
        if fault:
            return fault_answer(fault, self.dialect)
        return self._forward(method, path, headers, body)

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        assert self.target is not None, "no server to forward to"
        connection = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=30)
        sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        sent["Host"] = self.target.netloc
        try:
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            data = response.read()
            kept = {
                k: v for k, v in response.getheaders() if k.lower() in ("content-type", "x-amzn-errortype")
            }
        finally:
            connection.close()
        if self.skew_seconds:
            data = skew_expirations(data, self.skew_seconds)
        return Answer(response.status, data, kept)


# Faults whose answer is streamed by the handler rather than sent whole.
STREAMED = ("trickle", "flood", "flood-error")


def skew_expirations(document: bytes, seconds: int) -> bytes:
    """Every STS `<Expiration>` moved by `seconds`."""

    def shift(match: re.Match[str]) -> str:
        stamp = datetime.fromisoformat(match.group(1).replace("Z", "+00:00")) + timedelta(seconds=seconds)
        return f"<Expiration>{stamp.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>"

    return _EXPIRATION.sub(shift, document.decode()).encode()


def _handler(front: FaultyUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            front._arrive(self.path)
            try:
                answer = front._reply_for(method, self.path, dict(self.headers.items()), body)
            finally:
                front._leave()
            if answer is None:
                self.close_connection = True
                return
            if answer.headers.get("X-Stream"):
                self._stream(answer)
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def _stream(self, answer: Answer) -> None:
            """Trickle or flood the answer until it is done, the client hangs up, or the front closes."""
            self.close_connection = True
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            trickle = answer.headers["X-Stream"] == "trickle"
            body = b'{"accessToken": "' + b"x" * 4096 + b'"}'
            if trickle:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if trickle:
                    for byte in body:
                        if front._closing.wait(TRICKLE_SECONDS):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                else:
                    chunk = b" " * 65536
                    self.wfile.write(b'{"pad": "')
                    for _ in range(FLOOD_BYTES // len(chunk)):
                        self.wfile.write(chunk)
            except OSError:
                pass  # the client gave up: what the cap is for

    return Handler
