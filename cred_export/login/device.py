"""The device authorization grant's shared parts (RFC 8628): the code to show, and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

from cred_export.errors import LoginRequired, UpstreamError
from cred_export.login.browser import can_open_browser, open_browser
from cred_export.util.http import is_safe_url
from cred_export.util.text import first_line, printable

T = TypeVar("T")
PENDING, SLOW_DOWN = "authorization_pending", "slow_down"


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str = field(repr=False)
    user_code: str
    verification_uri_complete: str
    expires_at: float  # monotonic clock
    interval: float

    @classmethod
    def starting_now(cls, device_code: str, user_code: str, url: str, expires_in: int, interval: int):  # type: ignore[no-untyped-def]
        return cls(device_code, user_code, url, time.monotonic() + expires_in, max(1, interval))


def show_device_code(device: DeviceAuthorization, where: str, out: TextIO) -> None:
    """Print the link and code (Claude Code shows awsAuthRefresh's output) and open a browser.

    Both come from the service: the link must be https:// and both are shown printable only."""
    url = _checked(device.verification_uri_complete, where)
    print(
        f"To sign in to {printable(where)}, open {url}\n"
        f"and check that it shows the code {printable(device.user_code)}.",
        file=out,
        flush=True,
    )
    if can_open_browser():
        open_browser(url)


def show_sign_in_url(url: str, where: str, out: TextIO) -> None:
    url = _checked(url, where)
    print(
        f"Sign in to {printable(where)} in your browser. If it does not open, visit:\n{url}",
        file=out,
        flush=True,
    )
    open_browser(url)


def _checked(url: str, where: str) -> str:
    """A sign-in address from a service, refused unless https:// (http:// only on loopback)."""
    if is_safe_url(url):
        return url
    raise UpstreamError(f"{printable(where)} sent a sign-in address that is not https://: {first_line(url)}")


def poll(device: DeviceAuthorization, deadline: float, profile: str, attempt: Callable[[], T | str]) -> T:
    """Call `attempt` every interval until it returns a token (RFC 8628 §3.5).

    `attempt` returns PENDING or SLOW_DOWN while the user has not approved yet, and raises for
    anything final. Gives up when the code expires or `deadline` (monotonic) comes.
    """
    interval = device.interval
    while time.monotonic() + interval <= min(deadline, device.expires_at):
        time.sleep(interval)
        outcome = attempt()
        if outcome == SLOW_DOWN:
            interval += 5
        elif outcome != PENDING:
            return outcome  # type: ignore[return-value]
    expired = time.monotonic() >= device.expires_at - interval
    raise LoginRequired(
        profile, "the device code expired" if expired else "sign-in was not completed in time"
    )
