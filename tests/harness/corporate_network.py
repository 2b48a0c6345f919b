"""A corporate network on 127.0.0.1: an OpenID Provider behind TLS from a private CA, and a proxy.

- `TlsOpenIdProvider`: discovery, JWKS and a token endpoint (refresh_token grant) over HTTPS,
  its certificate issued by a `trustme` CA that no system store trusts — as behind a
  TLS-inspecting corporate proxy. `ca_file` is the CA bundle to hand to cred-export.
- `ConnectProxy`: an HTTPS proxy as corporate networks have (HTTP CONNECT tunnels), recording
  the targets it was asked to reach.
"""

from __future__ import annotations

import json
import select
import socket
import socketserver
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import trustme
from cryptography.hazmat.primitives.asymmetric import rsa

from harness.stand_in import StandIn

CLIENT_ID = "corp-cli"


class TlsOpenIdProvider(StandIn):
    """`calls` and `requests` count and list the paths asked for; `issuer` is `url` (https)."""

    requests: list[str]

    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        self.ca_file = directory / "corporate-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        super().__init__(tls=context)
        self.issuer = self.url

    def _discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def _jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def _token(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return 400, {"error": "invalid_grant", "error_description": "refresh_token grants only"}
        now = int(time.time())  # the client judges the token, by its own clock
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "alice", "email": "alice@corp.example"}
        token = jwt.encode(
            {**claims, "iat": now, "exp": now + 3600}, self._key, "RS256", headers={"kid": "k1"}
        )
        return 200, {"id_token": token, "refresh_token": f"rt-{uuid.uuid4()}", "token_type": "Bearer"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                provider._record(self.path, self.path)
                documents = {
                    "/.well-known/openid-configuration": provider._discovery,
                    "/jwks": provider._jwks,
                }
                self._answer(200, documents[self.path]()) if self.path in documents else self._answer(404, {})

            def do_POST(self) -> None:
                provider._record(self.path, self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {key: values[0] for key, values in parse_qs(body).items()}
                self._answer(*provider._token(form)) if self.path == "/token" else self._answer(404, {})

            def _answer(self, status: int, document: dict) -> None:
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


class ConnectProxy(socketserver.ThreadingTCPServer):
    """HTTP CONNECT tunnels only; `targets` lists every host:port it was asked for."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _TunnelHandler)
        self.targets: list[str] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _TunnelHandler(socketserver.StreamRequestHandler):
    server: ConnectProxy

    def handle(self) -> None:
        request = self.rfile.readline(8192).decode("latin-1").split()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass  # the headers
        if len(request) < 2 or request[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.targets.append(request[1])
        host, _, port = request[1].rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except (OSError, ValueError):
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        with upstream:
            _relay(self.connection, upstream)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes or 30 s pass in silence."""
    while True:
        readable, _, _ = select.select([client, upstream], [], [], 30)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (upstream if source is client else client).sendall(data)
