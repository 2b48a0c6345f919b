"""The base of the in-process HTTP stand-ins: a server on 127.0.0.1, a per-test reset, call counts
and a clock that tests move forward instead of sleeping.

A stand-in subclasses `StandIn`, puts its settings back in `_restore_defaults`, forgets what it
has issued in `_clear_state` (both run at start and on every `reset()`), and either answers through
`_dispatch(method, path, headers, body)` or builds its own request handler in `_handler()`.

Time: the service judges every lifetime it hands out (tokens, codes, sessions) by `now()`, which is
this machine's time plus `elapsed`. `advance(seconds)` moves it on, so a test lets a token expire
at once. A client's own clock does not move with it: what a client stamps (a signing time, a DPoP
`iat`, what it reads in `Date`) is still judged against this machine's time.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

from harness.loopback import LoopbackServer, Reply, dispatching_handler

S = TypeVar("S", bound="StandIn")


class StandIn:
    """A stand-in service on 127.0.0.1 (random port), served from a daemon thread until `close()`;
    over HTTPS when given a server `tls` context."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._lock = threading.RLock()
        self.calls: Counter[str] = Counter()  # operation -> how often it was called
        self.requests: list[Any] = []  # what each call asked, oldest first
        self.elapsed = 0.0
        self._restore_defaults()
        self._clear_state()
        self._http = LoopbackServer(self._handler(), tls)

    @property
    def url(self) -> str:
        return self._http.url

    # ----------------------------------------------------------------- time

    def now(self) -> float:
        """The service's time: epoch seconds, `elapsed` ahead of this machine's."""
        return time.time() + self.elapsed

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass for the service: what it issued ages by as much, at once."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self.elapsed += seconds

    # ----------------------------------------------------------------- test controls

    def reset(self) -> None:
        """Clear the calls and their log, put the clock back, restore the defaults, forget all state."""
        with self._lock:
            self.calls.clear()
            self.requests.clear()
            self.elapsed = 0.0
            self._restore_defaults()
            self._clear_state()

    def close(self) -> None:
        self._http.close()

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- for subclasses

    def _record(self, op: str, entry: Any) -> None:
        """Count a call of `op` and log what it asked."""
        with self._lock:
            self.calls[op] += 1
            self.requests.append(entry)

    def _restore_defaults(self) -> None:
        """Put every test-adjustable setting back to its default."""

    def _clear_state(self) -> None:
        """Forget everything issued or recorded besides `calls` and `requests` (which `reset` clears)."""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler; by default each GET and POST goes to `_dispatch`."""
        return dispatching_handler(self._dispatch)

    def _dispatch(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        raise NotImplementedError
