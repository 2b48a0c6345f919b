"""The sign-in redirect receiver: 127.0.0.1 only, one matching `state`, once; strays ignored."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

from cred_export.login.loopback import LoopbackReceiver


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
    import socket

    receiver = LoopbackReceiver("/cb", state="s")
    port = int(receiver.redirect_uri.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port)):
        started = time.monotonic()
        assert receiver.wait(started + 1) is None
        assert time.monotonic() - started < 8
