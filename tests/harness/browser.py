"""A stand-in for the user's browser, for `BROWSER="python browser.py %s"`.

It behaves like a signed-in user: for an authorization URL it asks the authorization server,
which answers with a redirect, and then follows that redirect to the loopback receiver —
after first sending the stray requests real browsers send (`/favicon.ico`, a wrong `state`).
For a device verification URL it simply opens it (which approves the code). Every URL it is
given is appended to $BROWSER_LOG when set.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def get(url: str, *, follow: bool = True) -> tuple[int, dict[str, str]]:
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def visit(url: str) -> None:
    status, headers = get(url, follow=False)
    location = headers.get("Location")
    if status not in (301, 302, 303, 307) or not location:
        return
    target = urlsplit(location)
    base = urlunsplit((target.scheme, target.netloc, "", "", ""))
    get(base + "/favicon.ico")
    wrong = {**{k: v[0] for k, v in parse_qs(target.query).items()}, "state": "forged"}
    get(urlunsplit((target.scheme, target.netloc, target.path, urlencode(wrong), "")))
    get(location)


def main() -> None:
    url = sys.argv[1]
    log = os.environ.get("BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(url + "\n")
    if os.environ.get("BROWSER_DOES_NOTHING"):
        return
    visit(url)


if __name__ == "__main__":
    main()
