"""A real OpenID Provider on 127.0.0.1: the certified `oidc-provider` npm package, run by Node.

`tests/oidc_provider/server.mjs` configures it (see the header there); this wrapper starts it,
reads the issuer it prints, collects its request log and speaks to its endpoints. Two clients:

- ``cred-export-test``: public (``token_endpoint_auth_method`` ``none``), PKCE S256 required;
- ``cred-export-secret``: confidential, secret ``s3cret`` (client_secret_basic or _post).

Both are native clients with the grants authorization_code, refresh_token and device_code, so any
port of a registered loopback redirect URI matches (RFC 8252). Sign-in goes through the provider's
own development pages (any login name, then consent); `harness.oidc_browser` fills them in.
`advance(seconds)` moves the provider's clock on, so its tokens expire without a wait.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "oidc_provider"
AVAILABLE = shutil.which("node") is not None
CLIENT_ID = "cred-export-test"
SECRET_CLIENT_ID = "cred-export-secret"
CLIENT_SECRET = "s3cret"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REQUEST_PREFIX = "request "
SYNC_PATH = "/--log-sync/"
CLOCK_PATH = "/--clock/advance"
INSTALL_TIMEOUT = 300.0
HTTP_TIMEOUT = 10.0


def installed() -> bool:
    return (ROOT / "node_modules" / "oidc-provider" / "package.json").is_file()


def ensure_installed(timeout: float = INSTALL_TIMEOUT) -> None:
    """Install the pinned packages from package-lock.json (`npm ci`) unless they are there."""
    if installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed; it is needed to install tests/oidc_provider")
    command = [npm, "ci", "--prefix", str(ROOT), "--no-audit", "--no-fund"]
    done = subprocess.run(command, timeout=timeout, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def http_json(
    url: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """GET (or POST `form`, url-encoded) and return the status and the JSON body ({} if none)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    return status, json.loads(body) if body.strip() else {}


def http_status(url: str) -> int:
    """GET `url`, read and drop the body; the status."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    quote = urllib.parse.quote_plus  # RFC 6749 §2.3.1: form-encode both parts first
    pair = f"{quote(client_id)}:{quote(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


class OpenIdProvider:
    """`node server.mjs` on a free port; `.issuer` is ``http://127.0.0.1:<port>``."""

    client_id = CLIENT_ID
    secret_client_id = SECRET_CLIENT_ID
    client_secret = CLIENT_SECRET

    def __init__(
        self,
        redirect_port: int | None = None,
        *,
        redirect_path: str = "/callback",
        extra_redirect_uris: tuple[str, ...] = (),
        access_token_ttl: int | None = None,
        id_token_ttl: int | None = None,
        refresh_token_ttl: int | None = None,
        device_code_ttl: int | None = None,
        refresh_tokens: str = "offline_access",
        extra_env: dict[str, str] | None = None,
        start_timeout: float = 20.0,
    ) -> None:
        port = f":{redirect_port}" if redirect_port else ""
        self.redirect_uri = f"http://127.0.0.1{port}{redirect_path}"
        self.requests: list[dict[str, Any]] = []
        self.log: list[str] = []
        self.elapsed = 0.0  # seconds its clock has been advanced
        self._lock = threading.Lock()
        self._logged = threading.Condition(self._lock)
        self._syncs = 0
        self._last_path = ""
        self._discovery: dict[str, Any] | None = None
        ttls = {
            "OIDC_ACCESS_TOKEN_TTL": access_token_ttl,
            "OIDC_ID_TOKEN_TTL": id_token_ttl,
            "OIDC_REFRESH_TOKEN_TTL": refresh_token_ttl,
            "OIDC_DEVICE_CODE_TTL": device_code_ttl,
        }
        env = {
            **os.environ,
            "OIDC_PORT": "0",
            "OIDC_REDIRECT_URIS": " ".join((self.redirect_uri, *extra_redirect_uris)),
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REFRESH_TOKENS": refresh_tokens,
            "OIDC_EXIT_ON_STDIN_EOF": "1",  # the pipe closes when this process dies, and node exits
            **{name: str(value) for name, value in ttls.items() if value is not None},
            **(extra_env or {}),
        }
        self._process = subprocess.Popen(
            ["node", "server.mjs"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.issuer = self._wait_for_issuer(start_timeout)

    def __enter__(self) -> OpenIdProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- process ---------------------------------------------------------------------------

    def _wait_for_issuer(self, timeout: float) -> str:
        lines: queue.Queue[str] = queue.Queue()
        assert self._process.stdout is not None and self._process.stderr is not None
        threading.Thread(target=_pump, args=(self._process.stdout, lines.put), daemon=True).start()
        errors = threading.Thread(target=_pump, args=(self._process.stderr, self._on_stderr), daemon=True)
        errors.start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line:
            return json.loads(line)["issuer"]
        self.stop()
        errors.join(timeout=2.0)
        what = "exited" if line == "" else f"did not start in {timeout} s"
        raise RuntimeError(f"the OpenID Provider {what}: " + "\n".join(self.log[-10:]))

    def _on_stderr(self, line: str) -> None:
        if not line.startswith(REQUEST_PREFIX):
            self.log.append(line.rstrip("\n"))
            return
        entry = json.loads(line[len(REQUEST_PREFIX) :])
        with self._logged:
            if not entry["path"].startswith(SYNC_PATH):
                self.requests.append(entry)
            self._last_path = entry["path"]
            self._logged.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=timeout)

    @property
    def url(self) -> str:
        return self.issuer

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    # -- clock -----------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass for the provider (its Date.now()): its tokens and codes age at once.

        The clock never goes back, so advance only a provider of your own, not the shared `oidc_op`.
        """
        request = urllib.request.Request(f"{self.issuer}{CLOCK_PATH}?seconds={seconds}", method="POST")
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            if response.status != 204:
                raise RuntimeError(f"the clock control answered {response.status}")
        self.elapsed += seconds

    # -- request log -----------------------------------------------------------------------

    def sync_log(self, timeout: float = 5.0) -> None:
        """Wait until every request answered so far is in `.requests` (the log trails the answers)."""
        with self._lock:
            self._syncs += 1
            path = f"{SYNC_PATH}{self._syncs}"
        http_status(self.issuer + path)
        with self._logged:
            if not self._logged.wait_for(lambda: self._last_path == path, timeout):
                raise RuntimeError("the OpenID Provider's request log stalled")

    def requests_to(self, route: str, grant_type: str | None = None) -> list[dict[str, Any]]:
        """Logged requests to one route ("token", "authorization", "revocation", ...), up to now."""
        self.sync_log()
        with self._lock:
            entries = list(self.requests)
        return [r for r in entries if r["route"] == route and grant_type in (None, r["grant_type"])]

    def token_requests(self, grant_type: str | None = None) -> list[dict[str, Any]]:
        return self.requests_to("token", grant_type)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- endpoints -------------------------------------------------------------------------

    def fetch_discovery(self) -> dict[str, Any]:
        status, document = http_json(self.issuer + "/.well-known/openid-configuration")
        if status != 200:
            raise RuntimeError(f"discovery answered {status}")
        self._discovery = document
        return document

    def endpoint(self, name: str) -> str:
        """A URL from the discovery document, e.g. ``endpoint("token_endpoint")``."""
        document = self._discovery or self.fetch_discovery()
        return document[name]

    def token(self, form: dict[str, str], *, secret: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST to the token endpoint; with `secret`, as the confidential client (client_secret_basic)."""
        headers = basic_auth(form["client_id"], secret) if secret is not None else {}
        if secret is not None:
            form = {k: v for k, v in form.items() if k != "client_id"}
        return http_json(self.endpoint("token_endpoint"), form, headers)

    def device_authorization(self, scope: str = "openid email offline_access") -> dict[str, Any]:
        """Start a device authorization for the public client; returns the provider's answer."""
        form = {"client_id": self.client_id, "scope": scope}
        status, body = http_json(self.endpoint("device_authorization_endpoint"), form)
        if status != 200:
            raise RuntimeError(f"device authorization answered {status}: {body}")
        return body

    def revoke(self, token: str, token_type_hint: str | None = None) -> int:
        """Revoke a token (as the public client) at the provider's revocation endpoint; the status."""
        form = {"token": token, "client_id": self.client_id}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        status, _ = http_json(self.endpoint("revocation_endpoint"), form)
        return status

    def approve_device(self, verification_uri_complete: str, action: str = "signin") -> None:
        """Confirm a user code, sign in and consent, as a user would in a browser."""
        from harness import oidc_browser

        oidc_browser.run(verification_uri_complete, action=action)


def _pump(stream: Any, sink: Any) -> None:
    """Hand each line of `stream` to `sink`; an empty string once the stream ends."""
    for line in stream:
        sink(line)
    sink("")
