"""A stand-in for the user's browser at a real OpenID Provider, for `BROWSER="python oidc_browser.py %s"`.

Given an authorization URL it behaves like a person: it follows the provider's redirects keeping
cookies, fills in and posts the sign-in form of the provider's development pages (any login name),
posts the consent form, and follows the final redirect to the loopback receiver (one GET, whose
answer it reads). Given a device verification URL (``.../device?user_code=...``, or ``.../device``
with $OIDC_BROWSER_USER_CODE) it confirms the code, then signs in and consents the same way.

Environment:
- ``BROWSER_LOG``: append every URL it is given to this file.
- ``OIDC_BROWSER_ACTION``: ``signin`` (default); ``deny`` (cancel at the first page that asks
  anything, so the provider answers ``access_denied``); ``nothing`` (log the URL and exit).
- ``OIDC_BROWSER_LOGIN``: the login name typed in (default ``alice@example.com``, the `sub`).
- ``OIDC_BROWSER_TRACE``: append one line per request (method, URL without query, status).

It prints nothing on stdout; on failure one line on stderr and exit status 1.
"""

from __future__ import annotations

import http.cookiejar
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

TIMEOUT = 10.0
MAX_STEPS = 20
DEFAULT_LOGIN = "alice@example.com"
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class BrowserError(Exception):
    pass


@dataclass
class Form:
    id: str | None
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    text_inputs: list[str] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Page:
    url: str
    status: int
    forms: list[Form] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # link text -> href
    title: str = ""
    autosubmit: bool = False  # a script posts the first form on load (form_post pages)
    error: str = ""  # the text of the device pages' red message ("The code you entered is incorrect")

    def form(self, *, form_id: str | None = None, field_name: str | None = None) -> Form | None:
        for form in self.forms:
            if form_id is not None and form.id == form_id:
                return form
            if field_name is not None and (field_name in form.fields or field_name in form.text_inputs):
                return form
        return None


class _PageParser(HTMLParser):
    """Collects forms (with inputs and buttons, also those tied to a form by `form=`), links, title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: dict[str, str] = {}
        self.title = ""
        self.error = ""
        self._error_open = False
        self._open_form: Form | None = None
        self._orphans: list[tuple[str, dict[str, str]]] = []
        self._text_target: str | None = None
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open_form = Form(a.get("id"), a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._open_form)
        elif tag in ("input", "button"):
            self._control(tag, a)
        elif tag == "a" and "href" in a:
            self._href, self._text_target = a["href"], ""
        elif tag == "title":
            self._text_target = ""
        elif tag == "p" and "red" in a.get("class", "").split():
            self._error_open = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._error_open = False
        elif tag == "form":
            self._open_form = None
        elif tag == "a" and self._href is not None:
            self.links[(self._text_target or "").strip()] = self._href
            self._href, self._text_target = None, None
        elif tag == "title" and self._text_target is not None:
            self.title, self._text_target = self._text_target.strip(), None

    def handle_data(self, data: str) -> None:
        if self._error_open:
            self.error += data
        if self._text_target is not None:
            self._text_target += data

    def _control(self, tag: str, a: dict[str, str]) -> None:
        owner = a.get("form")
        if owner is not None or self._open_form is None:
            self._orphans.append((tag, a))
        else:
            _add_control(self._open_form, tag, a)

    def close(self) -> None:
        super().close()
        by_id = {form.id: form for form in self.forms if form.id}
        for tag, a in self._orphans:
            form = by_id.get(a.get("form", ""))
            if form is not None:
                _add_control(form, tag, a)


def _add_control(form: Form, tag: str, a: dict[str, str]) -> None:
    kind = a.get("type", "submit" if tag == "button" else "text").lower()
    name = a.get("name", "")
    if kind == "submit":
        form.buttons.append({"name": name, "value": a.get("value", "")})
    elif name and kind == "hidden":
        form.fields[name] = a.get("value", "")
    elif name:
        form.text_inputs.append(name)
        form.fields[name] = a.get("value", "")


def parse_page(url: str, status: int, html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    autosubmit = bool(parser.forms) and "forms[0].submit()" in html
    return Page(url, status, parser.forms, parser.links, parser.title, autosubmit, parser.error.strip())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class UserAgent:
    """Cookies and manual redirects; stops at the first answer from outside the provider."""

    def __init__(self, provider_origin: str, trace: str | None = None) -> None:
        self.provider_origin = provider_origin
        self.trace = trace
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self.landed: tuple[str, int] | None = None  # the loopback receiver's URL and status

    def request(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=TIMEOUT) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, exc.read()
        location = headers.get("Location", "")
        self._trace("POST" if form is not None else "GET", url, status)
        return status, location, body.decode("utf-8", "replace")

    def navigate(self, url: str, form: dict[str, str] | None = None) -> Page | None:
        """Load `url` (POSTing `form`), following redirects; None once outside the provider."""
        for _ in range(MAX_STEPS):
            if origin(url) != self.provider_origin:
                status, _, _ = self.request(url, form)
                self.landed = (url, status)
                return None
            status, location, body = self.request(url, form)
            if status not in REDIRECTS or not location:
                return parse_page(url, status, body)
            url, form = urllib.parse.urljoin(url, location), None
        raise BrowserError("too many redirects")

    def _trace(self, method: str, url: str, status: int) -> None:
        if self.trace:
            with open(self.trace, "a", encoding="utf-8") as handle:
                handle.write(f"{method} {url.split('?')[0]} {status}\n")


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def submit(agent: UserAgent, page: Page, form: Form, extra: dict[str, str] | None = None) -> Page | None:
    action = urllib.parse.urljoin(page.url, form.action or page.url)
    fields = {**form.fields, **(extra or {})}
    if form.method == "post":
        return agent.navigate(action, fields)
    return agent.navigate(action + "?" + urllib.parse.urlencode(fields))


def step(agent: UserAgent, page: Page, action: str, login: str) -> Page | None:
    """Answer one provider page the way the user would; None when the flow has left the provider."""
    if page.error:
        raise _Finished(page)
    if page.autosubmit:
        return submit(agent, page, page.forms[0])
    if (form := page.form(form_id="op.deviceConfirmForm")) is not None:
        abort = next(({b["name"]: b["value"]} for b in form.buttons if b["name"] == "abort"), None)
        if action == "deny" and abort is None:
            raise BrowserError("the device confirmation page has no abort button")
        return submit(agent, page, form, abort if action == "deny" else None)
    if (form := page.form(form_id="op.deviceInputForm")) is not None:
        code = form.fields.get("user_code") or os.environ.get("OIDC_BROWSER_USER_CODE", "")
        if not code:
            raise BrowserError("the device page asks for a user code and none was given")
        return submit(agent, page, form, {"user_code": code})
    interactive = page.form(field_name="login") or page.form(field_name="prompt")
    if interactive is not None and action == "deny":
        cancel = next((href for text, href in page.links.items() if "cancel" in text.lower()), None)
        if cancel is None:
            raise BrowserError(f"no way to cancel at {page.title!r}")
        return agent.navigate(urllib.parse.urljoin(page.url, cancel))
    if (form := page.form(field_name="login")) is not None:
        return submit(agent, page, form, {"login": login, "password": "any-password"})
    if (form := page.form(field_name="prompt")) is not None:
        return submit(agent, page, form)
    raise _Finished(page)


class _Finished(Exception):
    """The provider showed a page with nothing to answer (success, or an error page)."""

    def __init__(self, page: Page) -> None:
        super().__init__(page.title)
        self.page = page


def run(
    url: str, *, action: str = "signin", login: str = DEFAULT_LOGIN, trace: str | None = None
) -> UserAgent:
    """Drive the provider from `url` to the end; raises BrowserError when it ends on an error page."""
    agent = UserAgent(origin(url), trace)
    page = agent.navigate(url)
    for _ in range(MAX_STEPS):
        if page is None:
            return agent
        try:
            page = step(agent, page, action, login)
        except _Finished as finished:
            return _finish(agent, finished.page, action)
    raise BrowserError("the provider kept asking")


def _finish(agent: UserAgent, page: Page, action: str) -> UserAgent:
    if page.status == 200 and "success" in page.title.lower():
        return agent
    if action == "deny" and "interrupted" in page.error:
        return agent  # the device flow's answer to an abort: "The Sign-in request was interrupted"
    said = f": {page.error}" if page.error else ""
    where = page.url.split("?")[0]
    raise BrowserError(f"the provider ended on {page.title!r} (HTTP {page.status}) at {where}{said}")


def main() -> int:
    url = sys.argv[1]
    log = os.environ.get("BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(url + "\n")
    action = os.environ.get("OIDC_BROWSER_ACTION", "signin")
    if action == "nothing":
        return 0
    login = os.environ.get("OIDC_BROWSER_LOGIN", DEFAULT_LOGIN)
    try:
        run(url, action=action, login=login, trace=os.environ.get("OIDC_BROWSER_TRACE"))
    except (BrowserError, OSError) as exc:
        print(f"oidc_browser: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
