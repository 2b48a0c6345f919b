"""The sign-in redirect receiver: 127.0.0.1 only, one matching `state`, once; strays ignored;
clients that connect and stall (silent, or trickling a byte at a time) hold up nothing."""

from __future__ import annotations

import itertools
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from harness.browser import visit
from harness.sandbox import read_until_url
from test_sso import browser_env, write_sso_config

from cred_export.login.loopback import MAX_CONNECTIONS, REQUEST_SECONDS, LoopbackReceiver


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_only_the_matching_state_on_the_redirect_path_is_accepted_once():
    receiver = LoopbackReceiver("/callback", state="expected")
    base = receiver.redirect_uri
    statuses: list[int] = []

    def browser() -> None:
        root = base.rsplit("/", 1)[0]
        statuses.append(get(root + "/favicon.ico"))
        statuses.append(get(base + "?code=stolen&state=forged"))
        statuses.append(get(base + "?code=no-state"))
        statuses.append(get(base + "?code=good&state=expected"))

    thread = threading.Thread(target=browser)
    thread.start()
    callback = receiver.wait(time.monotonic() + 10)
    thread.join(10)
    assert statuses == [404, 400, 400, 200]
    assert callback is not None and callback.code == "good" and callback.error is None
    assert base.startswith("http://127.0.0.1:")


def test_an_error_redirect_is_reported():
    receiver = LoopbackReceiver("/cb", state="s")
    thread = threading.Thread(target=get, args=(receiver.redirect_uri + "?error=access_denied&state=s",))
    thread.start()
    callback = receiver.wait(time.monotonic() + 10)
    thread.join(10)
    assert callback is not None and callback.error == "access_denied" and callback.code is None


def test_waiting_ends_at_the_deadline():
    receiver = LoopbackReceiver("/cb", state="s")
    started = time.monotonic()
    assert receiver.wait(started + 0.5) is None
    assert time.monotonic() - started < 3


def test_a_client_that_connects_and_says_nothing_cannot_stall_the_wait():
    receiver = LoopbackReceiver("/cb", state="s")
    port = int(receiver.redirect_uri.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port)):
        started = time.monotonic()
        assert receiver.wait(started + 1) is None
        assert time.monotonic() - started < 8


# --- clients that connect and stall: a local process can reach the port ------------------------


class Trickler:
    """Connects to `port` and sends one byte of a request every `interval` s, never finishing it.

    With `reconnect` it connects again each time the receiver cuts it off, holding a connection
    open for as long as it runs. `cut_at` is when the receiver first closed or reset it. It gives
    up after `lifetime` s, so that a receiver that waits for it cannot hang the test run.
    """

    def __init__(
        self, port: int, interval: float = 1.5, reconnect: bool = False, lifetime: float = 40
    ) -> None:
        self.port, self.interval, self.reconnect = port, interval, reconnect
        self._give_up = time.monotonic() + lifetime
        self.cut_at: float | None = None
        self.connections = 0
        self._cut = threading.Event()
        self._stop = threading.Event()
        self._socket = self._connect()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _connect(self) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        connection.settimeout(self.interval)
        self.connections += 1
        return connection

    def _run(self) -> None:
        while True:
            cut = self._trickle(self._socket)
            self._socket.close()
            if not cut:
                return
            if self.cut_at is None:
                self.cut_at = time.monotonic()
                self._cut.set()
            if not self.reconnect:
                return
            try:
                self._socket = self._connect()
            except OSError:  # nothing listens any more
                return

    def _trickle(self, connection: socket.socket) -> bool:
        """True when the receiver closes or resets the connection, False when the test stops."""
        request = itertools.chain(b"GET /cb?state=", itertools.repeat(ord("x")))
        try:
            for byte in request:
                if self._stop.is_set() or time.monotonic() > self._give_up:
                    return False
                connection.sendall(bytes([byte]))
                try:
                    connection.recv(1024)  # an answer or end of file: either way, cut off
                    return True
                except TimeoutError:
                    continue
        except OSError:  # reset
            return True
        return False

    def wait_cut(self, timeout: float) -> bool:
        return self._cut.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._socket.close()


def port_of(url: str) -> int:
    return urlsplit(url).port  # type: ignore[return-value]


def closed_by_peer(connection: socket.socket, timeout: float) -> bool:
    """Whether the other end closes or resets `connection` within `timeout` s."""
    connection.settimeout(timeout)
    try:
        return connection.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def loopback_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "loopback-connection"]


def test_a_trickling_client_and_silent_connections_cannot_hold_off_the_redirect():
    receiver = LoopbackReceiver("/cb", state="s")
    port = port_of(receiver.redirect_uri)
    # first in the queue: a one-at-a-time receiver would serve it first
    trickler = Trickler(port, interval=0.25)
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    sent: dict[str, float | int] = {}

    def browser() -> None:
        time.sleep(0.6)  # the trickler has sent three bytes, each within any per-read timeout
        sent["at"] = time.monotonic()
        sent["status"] = get(receiver.redirect_uri + "?code=good&state=s")

    thread = threading.Thread(target=browser, daemon=True)
    thread.start()
    try:
        callback = receiver.wait(time.monotonic() + 20)
        returned = time.monotonic()
        thread.join(10)
        assert callback is not None and callback.code == "good"
        assert sent.get("status") == 200
        assert returned - sent["at"] < 1.5, returned - sent["at"]  # at once, not after the strays
        assert trickler.wait_cut(2) and trickler.cut_at is not None and trickler.cut_at - returned < 2
        assert all(closed_by_peer(connection, 2) for connection in silent)
        assert loopback_threads() == []  # no connection is still being served
        with pytest.raises(OSError):  # the port is released
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        trickler.stop()
        for connection in silent:
            connection.close()


def test_a_trickling_client_is_cut_off_at_the_request_deadline_while_the_wait_goes_on():
    receiver = LoopbackReceiver("/cb", state="s")
    trickler = Trickler(port_of(receiver.redirect_uri), interval=0.5)
    try:
        started = time.monotonic()
        assert receiver.wait(started + REQUEST_SECONDS + 3) is None
        assert trickler.wait_cut(0) and trickler.cut_at is not None
        # a few seconds for the whole request however often it sends, not a timeout per read
        assert trickler.cut_at - started < REQUEST_SECONDS + 1.5, trickler.cut_at - started
    finally:
        trickler.stop()


def test_with_only_stalling_clients_the_wait_ends_at_its_deadline_and_releases_the_port():
    receiver = LoopbackReceiver("/cb", state="s")
    port = port_of(receiver.redirect_uri)
    trickler = Trickler(port, reconnect=True)
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    try:
        started = time.monotonic()
        assert receiver.wait(started + 2) is None
        assert time.monotonic() - started < 3
        assert trickler.wait_cut(2)
        assert all(closed_by_peer(connection, 2) for connection in silent)
        assert loopback_threads() == []
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        trickler.stop()
        for connection in silent:
            connection.close()


def test_more_silent_connections_than_are_kept_open_do_not_shut_out_the_redirect():
    receiver = LoopbackReceiver("/cb", state="s")
    port = port_of(receiver.redirect_uri)
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(MAX_CONNECTIONS + 8)]
    statuses: list[int] = []
    thread = threading.Thread(
        target=lambda: statuses.append(get(receiver.redirect_uri + "?code=good&state=s")), daemon=True
    )
    thread.start()
    try:
        started = time.monotonic()
        callback = receiver.wait(started + 20)
        thread.join(10)
        assert callback is not None and callback.code == "good" and statuses == [200]
        assert time.monotonic() - started < 3
        assert loopback_threads() == []
    finally:
        for connection in silent:
            connection.close()


# --- the same through `cred-export login` (IAM Identity Center, browser flow) --------------------


def redirect_port(authorize_url: str) -> int:
    (redirect_uri,) = parse_qs(urlsplit(authorize_url).query)["redirect_uri"]
    assert redirect_uri.startswith("http://127.0.0.1:")
    return port_of(redirect_uri)


def test_login_succeeds_within_its_timeout_while_a_client_trickles_at_the_redirect_port(
    sso_sandbox, sso, tmp_path
):
    write_sso_config(sso_sandbox)
    env = {**browser_env(tmp_path), "BROWSER_DOES_NOTHING": "1"}  # the test plays the browser
    started = time.monotonic()
    login = sso_sandbox.popen("login", "--profile", "dev", "--timeout", "10", env=env)
    url = read_until_url(login)
    port = redirect_port(url)
    trickler = Trickler(port)
    silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        time.sleep(0.2)  # they are ahead of the browser in the queue (connected before it)
        visit(url)  # the user signs in: the stand-in redirects, the browser follows (strays first)
        out, err = login.communicate(timeout=20)
        elapsed = time.monotonic() - started
    finally:
        login.kill()
        trickler.stop()
        for connection in silent:
            connection.close()
    assert login.returncode == 0, err
    assert "Signed in" in out
    assert elapsed < 10, elapsed
    assert sso.calls["Authorize"] == 1
    assert sso_sandbox.run("--profile", "dev").code == 0


def test_login_nobody_completes_ends_at_its_timeout_though_a_client_holds_the_redirect_port(
    sso_sandbox, sso, tmp_path
):
    write_sso_config(sso_sandbox)
    env = {**browser_env(tmp_path), "BROWSER_DOES_NOTHING": "1"}
    started = time.monotonic()
    login = sso_sandbox.popen("login", "--profile", "dev", "--timeout", "10", env=env)
    trickler = Trickler(redirect_port(read_until_url(login)), reconnect=True)
    try:
        try:
            out, err = login.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            login.kill()
            login.communicate()
            pytest.fail("login was still waiting 30 s after a 10 s --timeout")
        elapsed = time.monotonic() - started
    finally:
        login.kill()
        trickler.stop()
    assert login.returncode == 3, err
    assert "sign-in for profile dev was not completed in time" in err and "Signed in" not in out
    assert elapsed < 10 + 4, elapsed
    assert trickler.connections >= 1
