"""The one-shot loopback redirect receiver for authorization code flows (RFC 8252 §7.3).

Bound to 127.0.0.1 only, on a free port or the one an IdP requires. It answers stray requests
(`/favicon.ico`, wrong path, wrong or missing `state`) with 404/400 and keeps waiting; the
first request to the redirect path carrying the expected `state` ends it.
"""

from __future__ import annotations

import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from cred_export.errors import ConfigError

_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>cred-export</title>"
    b"<p>Signed in. You can close this window and return to your terminal.</p>"
)


class _LoopbackServer(HTTPServer):
    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN (DNS); a loopback receiver needs none.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


class Callback:
    """What the redirect brought: a code, or an error from the authorization server."""

    def __init__(self, code: str | None, error: str | None) -> None:
        self.code = code
        self.error = error


class LoopbackReceiver:
    def __init__(self, path: str, state: str, port: int = 0, host: str = "127.0.0.1") -> None:
        self.path = path
        self.host = host  # what the redirect URI says: some IdPs accept only "localhost"
        self._state = state
        self._result: Callback | None = None
        self._arrived = threading.Event()
        try:
            self._server = _LoopbackServer(("127.0.0.1", port), self._handler())
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on 127.0.0.1:{port} for the sign-in redirect ({exc.strerror}):"
                f" port {port} is busy; close whatever uses it"
            ) from None
        self._server.timeout = 0.2

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}{self.path}"

    def wait(self, deadline: float) -> Callback | None:
        """The callback, or None if `deadline` (monotonic) passes first."""
        try:
            while not self._arrived.is_set() and time.monotonic() < deadline:
                self._server.handle_request()
        finally:
            self._server.server_close()
        return self._result

    def _accept(self, query: dict[str, list[str]]) -> int:
        if query.get("state", [""])[0] != self._state or self._arrived.is_set():
            return 400
        self._result = Callback(query.get("code", [None])[0], query.get("error", [None])[0])
        self._arrived.set()
        return 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 2  # a client that connects and says nothing cannot stall the wait

            def log_message(self, *args: object) -> None:  # keep stdout/stderr clean
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                status = receiver._accept(parse_qs(url.query)) if url.path == receiver.path else 404
                body = _DONE_PAGE if status == 200 else b"Not the sign-in redirect."
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/html; charset=utf-8" if status == 200 else "text/plain"
                )
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        return Handler
