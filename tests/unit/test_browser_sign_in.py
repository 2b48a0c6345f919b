"""`cred_export.login.browser_sign_in`: the one browser sign-in, with a stand-in browser in-process.

The stand-in "browser" follows the sign-in address at once: it reads the redirect URI and
`state` from it and calls the loopback receiver back as an authorization server would. The end-to-end
tests (test_sso, test_oidc, test_console, test_loopback) run the same helper against real
stand-in servers and a real browser process.
"""

from __future__ import annotations

import io
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from cred_export.errors import LoginRequired
from cred_export.login import browser_sign_in as module
from cred_export.login.browser_sign_in import AuthorizeRequest, CodeGrant, Redirect, browser_sign_in
from cred_export.login.exclusive import SIGN_IN_LOCK, exclusive_sign_in
from cred_export.login.pkce import s256
from cred_export.renew.lock import KeyLock

PAGE = "https://idp.example/authorize"
CALLBACK = Redirect("/callback")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(tmp_path / "cache"))


class Browser:
    """Shown the sign-in address; follows it with each of `replies` in turn (query parameters,
    the address's state added unless given), or not at all without any."""

    def __init__(self, *replies: dict[str, str]) -> None:
        self.replies = replies
        self.shown: list[tuple[str, str]] = []
        self.statuses: list[int] = []
        self._threads: list[threading.Thread] = []

    def show(self, url: str, where: str, out: io.StringIO) -> None:
        self.shown.append((url, where))
        thread = threading.Thread(target=self._follow, args=(url,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _follow(self, url: str) -> None:
        query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
        redirect = urlsplit(query["redirect_uri"])
        for reply in self.replies:
            parameters = urlencode({"state": query["state"], **reply})
            target = f"http://127.0.0.1:{redirect.port}{redirect.path}?{parameters}"
            try:
                with urllib.request.urlopen(target, timeout=5) as answer:
                    self.statuses.append(answer.status)
            except urllib.error.HTTPError as exc:
                self.statuses.append(exc.code)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Browser]]:
    made: list[Browser] = []

    def make(*replies: dict[str, str]) -> Browser:
        made.append(Browser(*replies))
        monkeypatch.setattr(module, "show_sign_in_url", made[-1].show)
        return made[-1]

    yield make
    for each in made:
        each.join()


def authorize_url(request: AuthorizeRequest) -> str:
    query = {
        "redirect_uri": request.redirect_uri,
        "state": request.state,
        "code_challenge": request.code_challenge,
    }
    return f"{PAGE}?{urlencode(query)}"


def run(
    redeem: Callable[[CodeGrant], Any] = lambda grant: grant,
    *,
    url: Callable[[AuthorizeRequest], str] = authorize_url,
    redirect: Redirect = CALLBACK,
    seconds: float = 10.0,
    out: io.StringIO | None = None,
    **options: Any,
) -> Any:
    return browser_sign_in(
        "dev",
        where="https://corp.example",
        redirect=redirect,
        authorize_url=url,
        redeem=redeem,
        deadline=time.monotonic() + seconds,
        out=out or io.StringIO(),
        **options,
    )


def test_the_code_its_verifier_and_the_redirect_uri_go_to_the_exchange(browser):
    stand_in = browser({"code": "the-code"})
    requests: list[AuthorizeRequest] = []

    def url(request: AuthorizeRequest) -> str:
        requests.append(request)
        return authorize_url(request)

    grant = run(url=url, redeem=lambda grant: grant)
    assert isinstance(grant, CodeGrant)
    (request,) = requests
    assert grant.code == "the-code" and grant.redirect_uri == request.redirect_uri
    assert s256(grant.code_verifier) == request.code_challenge
    assert urlsplit(request.redirect_uri).hostname == "127.0.0.1"
    assert urlsplit(request.redirect_uri).path == "/callback"
    assert stand_in.shown == [(authorize_url(request), "https://corp.example")]
    assert "the-code" not in repr(grant) and grant.code_verifier not in repr(grant)


def test_what_the_exchange_returns_is_the_result(browser):
    browser({"code": "c"})
    assert run(redeem=lambda grant: ("token for", grant.code)) == ("token for", "c")


def test_each_sign_in_has_its_own_state_and_verifier(browser):
    browser({"code": "c"})
    first, second = run(), run()
    assert first.code_verifier != second.code_verifier


def test_the_state_can_take_the_form_a_service_expects(browser):
    browser({"code": "c"})
    states: list[str] = []

    def url(request: AuthorizeRequest) -> str:
        states.append(request.state)
        return authorize_url(request)

    run(url=url, make_state=lambda: "0b7e-fixed-form")
    assert states == ["0b7e-fixed-form"]


def test_a_fixed_port_and_host_name_the_redirect_uri(browser):
    browser({"code": "c"})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    grant = run(redirect=Redirect("/oidc/cb", port, "localhost"))
    assert grant.redirect_uri == f"http://localhost:{port}/oidc/cb"


@pytest.mark.parametrize(
    ("reply", "refused", "why"),
    [
        ({"error": "access_denied"}, {}, "the sign-in was refused: access_denied"),
        ({}, {}, "the sign-in was refused: no code"),
        (
            {"error": "access_denied"},
            {"refused": "the identity provider refused the sign-in"},
            "the identity provider refused the sign-in: access_denied",
        ),
    ],
)
def test_an_answer_without_a_code_is_refused_and_nothing_is_redeemed(browser, reply, refused, why):
    browser(reply)
    redeemed: list[CodeGrant] = []
    with pytest.raises(LoginRequired) as caught:
        run(redeem=redeemed.append, **refused)
    assert caught.value.why == why and redeemed == []


def test_a_redirect_with_another_state_is_turned_away_and_the_sign_in_goes_on(browser):
    stand_in = browser({"state": "forged", "code": "forged"}, {"code": "genuine"})
    assert run(redeem=lambda grant: grant.code) == "genuine"
    stand_in.join()
    assert stand_in.statuses == [400, 200]


def test_nobody_signing_in_ends_at_the_deadline_with_the_port_closed(browser):
    browser()
    requests: list[AuthorizeRequest] = []

    def url(request: AuthorizeRequest) -> str:
        requests.append(request)
        return authorize_url(request)

    started = time.monotonic()
    with pytest.raises(LoginRequired) as caught:
        run(url=url, seconds=0.3)
    assert caught.value.why == "sign-in was not completed in time"
    assert time.monotonic() - started < 3
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", urlsplit(requests[0].redirect_uri).port), timeout=1).close()


def test_a_sign_in_address_that_cannot_be_made_closes_the_port_at_once(browser):
    shown = browser()
    requests: list[AuthorizeRequest] = []

    def refused_url(request: AuthorizeRequest) -> str:
        requests.append(request)
        raise ValueError("the service's sign-in address is not https")

    with pytest.raises(ValueError):
        run(url=refused_url)
    assert shown.shown == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", urlsplit(requests[0].redirect_uri).port), timeout=1).close()


def test_the_machine_wide_sign_in_lock_is_held_while_it_runs(browser):
    browser({"code": "c"})
    free_meanwhile: list[bool] = []

    def url(request: AuthorizeRequest) -> str:
        probe = threading.Thread(target=lambda: free_meanwhile.append(_lock_is_free()))
        probe.start()
        probe.join(5)
        return authorize_url(request)

    run(url=url)
    assert free_meanwhile == [False]
    assert _lock_is_free()


def test_inside_a_sign_in_that_holds_the_lock_it_does_not_wait_for_itself(browser):
    browser({"code": "c"})
    out = io.StringIO()
    with exclusive_sign_in("dev", time.monotonic() + 5, out):
        started = time.monotonic()
        assert run(redeem=lambda grant: "signed in", out=out) == "signed in"
        assert time.monotonic() - started < 3
    assert out.getvalue() == ""


def test_no_browser_opens_while_another_sign_in_holds_the_lock(browser):
    stand_in = browser({"code": "c"})
    other, taken, done = KeyLock(SIGN_IN_LOCK), threading.Event(), threading.Event()

    def hold() -> None:
        other.acquire(5)
        taken.set()
        done.wait(5)
        other.release()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(5)
        out = io.StringIO()
        with pytest.raises(LoginRequired, match="another sign-in did not finish in time"):
            run(seconds=0.3, out=out)
    finally:
        done.set()
        holder.join(5)
    assert "Another sign-in is in progress" in out.getvalue()
    assert stand_in.shown == []


def _lock_is_free() -> bool:
    lock = KeyLock(SIGN_IN_LOCK)
    if not lock.try_acquire():
        return False
    lock.release()
    return True
