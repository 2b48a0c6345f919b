"""`require`: how a test says what it needs from the machine (a daemon, a browser, root, …).

Where the need is not met the test is skipped, except when `CRED_EXPORT_TESTS_REQUIRE_ALL` is set
(as `scripts/test` and CI set it): then it fails, so that a test never goes quietly unrun there.
"""

from __future__ import annotations

import os

import pytest

VARIABLE = "CRED_EXPORT_TESTS_REQUIRE_ALL"
REQUIRE_ALL = os.environ.get(VARIABLE, "") not in ("", "0")


def require(condition: bool, reason: str) -> None:
    """Skip the calling test unless `condition` holds; fail instead under CRED_EXPORT_TESTS_REQUIRE_ALL.

    `reason` says what is missing, e.g. "node is not installed: no local OpenID Provider"."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"{reason} ({VARIABLE} is set: every test must run)", pytrace=False)
    pytest.skip(reason)
