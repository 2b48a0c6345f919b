"""Run a blocking call with a time bound (keyring D-Bus calls, botocore resolution)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Overdue(Exception):
    """The call did not finish in time; it is abandoned on a daemon thread."""


def call(function: Callable[[], T], timeout: float) -> T:
    """`function()`'s result or exception, or `Overdue` after `timeout` seconds.

    A thread cannot be killed, so an overdue call is left running on a daemon thread,
    which does not keep the process alive when it exits.
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="bounded-call", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise Overdue(f"no answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
