"""The one-shot loopback redirect receiver for authorization code flows (RFC 8252 §7.3).

Bound to 127.0.0.1 only, on a free port or the one an IdP requires. It answers stray requests
(`/favicon.ico`, wrong path, wrong or missing `state`) with 404/400 and keeps waiting; the
first request to the redirect path carrying the expected `state` ends it.

Any local process can connect to the port, so no connection may hold up another: each is served
on its own daemon thread and has a few seconds in all to send its request (a deadline for the
whole request, not for each read, so trickling a byte at a time buys nothing). When `wait`
returns, the port is closed and every connection still open is cut.
"""

from __future__ import annotations

import io
import socket
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
REQUEST_SECONDS = 5.0  # one connection's time from accept to the end of its answer
MAX_CONNECTIONS = 32  # open at once; a new one cuts the oldest (a browser sends at once)
_POLL_SECONDS = 0.05  # how soon `wait` notices the redirect or its deadline
_RELEASE_SECONDS = 1.0  # how long `wait` gives cut connections' threads to end


def _cut(connection: socket.socket) -> None:
    """Wake whatever blocks on `connection` (its reads see end of file); its owner closes it."""
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _DeadlineReader(io.RawIOBase):
    """A connection's reads, each bounded by what is left of one deadline for them all."""

    def __init__(self, connection: socket.socket, deadline: float) -> None:
        self._connection = connection
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long")
        self._connection.settimeout(left)
        return self._connection.recv_into(buffer)


class _LoopbackServer(HTTPServer):
    """One daemon thread per connection; `release` closes the port and cuts what is still open."""

    request_queue_size = 2 * MAX_CONNECTIONS  # a burst of connections is not turned away unseen

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        # Never block in accept() after select() said ready (the client may be gone by then).
        self.socket.setblocking(False)
        self._lock = threading.Lock()
        self._open: dict[socket.socket, None] = {}  # oldest first; cut only under the lock
        self._threads: set[threading.Thread] = set()

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN (DNS); a loopback receiver needs none.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        thread = threading.Thread(
            target=self._serve, args=(request, client_address), name="loopback-connection", daemon=True
        )
        with self._lock:
            if len(self._open) >= MAX_CONNECTIONS:
                oldest = next(iter(self._open))
                del self._open[oldest]
                _cut(oldest)
            self._open[request] = None
            self._threads.add(thread)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: drop this connection, keep listening
            self._forget(request, thread)
            self.shutdown_request(request)

    def _serve(self, request: socket.socket, client_address: object) -> None:
        try:
            self.finish_request(request, client_address)  # type: ignore[arg-type]
        except Exception:  # a client that went away or was cut: nothing to report
            pass
        finally:
            self._forget(request, threading.current_thread())
            self.shutdown_request(request)

    def _forget(self, request: socket.socket, thread: threading.Thread) -> None:
        with self._lock:
            self._open.pop(request, None)
            self._threads.discard(thread)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the default prints a traceback to stderr

    def release(self) -> None:
        """Stop listening, cut every open connection, and let their threads end (boundedly)."""
        self.server_close()
        with self._lock:
            for connection in self._open:
                _cut(connection)
            self._open.clear()
            threads = list(self._threads)
        until = time.monotonic() + _RELEASE_SECONDS
        for thread in threads:
            thread.join(max(0.0, until - time.monotonic()))


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
        self._taken = threading.Lock()  # held for good once the matching state has come
        self._arrived = threading.Event()  # set once its answer (the "done" page) has been sent
        try:
            self._server = _LoopbackServer(("127.0.0.1", port), self._handler())
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on 127.0.0.1:{port} for the sign-in redirect ({exc.strerror}):"
                f" port {port} is busy; close whatever uses it"
            ) from None

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}{self.path}"

    def wait(self, deadline: float) -> Callback | None:
        """The callback, or None if `deadline` (monotonic) passes first. Either way the port is
        closed afterwards and no connection is left open."""
        try:
            while not self._arrived.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                # Accepts one connection at most and hands it to its own thread.
                self._server.timeout = min(left, _POLL_SECONDS)
                self._server.handle_request()
        finally:
            self._server.release()
        return self._result if self._arrived.is_set() else None

    def close(self) -> None:
        """Close the port without waiting (the sign-in stopped before its wait)."""
        self._server.release()

    def _accept(self, query: dict[str, list[str]]) -> int:
        if query.get("state", [""])[0] != self._state or not self._taken.acquire(blocking=False):
            return 400
        self._result = Callback(query.get("code", [None])[0], query.get("error", [None])[0])
        return 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_SECONDS

            def setup(self) -> None:
                self._deadline = time.monotonic() + REQUEST_SECONDS
                super().setup()
                self.rfile.close()
                self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self._deadline))

            def log_message(self, *args: object) -> None:  # keep stdout/stderr clean
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                status = receiver._accept(parse_qs(url.query)) if url.path == receiver.path else 404
                try:
                    self._answer(status)
                finally:
                    if status == 200:
                        receiver._arrived.set()

            def _answer(self, status: int) -> None:
                # What is left of the deadline bounds the answer too (a client that never reads).
                self.connection.settimeout(max(self._deadline - time.monotonic(), 0.1))
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
