"""Keys in the environment (`AWS_ACCESS_KEY_ID`, …): used only when no profile is named.

As in botocore, they win over the `default` profile but never over a profile asked for by name;
`chain.resolve_chain` asks for them first when no profile was named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from cred_export.sources.static import StaticRoot


@dataclass(frozen=True)
class EnvironmentRoot(StaticRoot):
    kind: ClassVar[str] = "environment"
    origin: ClassVar[str] = "environment"

    def describe(self) -> str:
        return "static keys (environment)"


def from_environment() -> EnvironmentRoot | None:
    key_id = os.environ.get("AWS_ACCESS_KEY_ID", "").strip()
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
    if not (key_id and secret):
        return None
    token = os.environ.get("AWS_SESSION_TOKEN", "").strip() or None
    return EnvironmentRoot("default", key_id, secret, token)


# The environment this source reads (for docs, and for the contract every source keeps:
# tests/test_source_contract.py).
EXAMPLE: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
}
