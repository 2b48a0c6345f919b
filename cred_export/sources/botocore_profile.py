"""Any profile botocore can resolve by itself: credential_process, web identity, credential_source.

botocore is imported when credentials are asked for, not when a profile is matched: resolving a
chain (for `status`, say) stays light.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from cred_export import log
from cred_export.aws.config import SECRET_KEYS, AwsConfig
from cred_export.credentials import Keys
from cred_export.errors import ConfigError, LoginRequired, UpstreamError
from cred_export.sources.base import AWS_CONFIG, Candidate, Root
from cred_export.stores.base import Store
from cred_export.util import bounded, subprocesses
from cred_export.util.text import first_line

# Settings that only botocore knows how to turn into credentials.
BOTOCORE_KEYS = ("credential_process", "credential_source", "web_identity_token_file")
# Bound for the whole resolution (a credential_process may hang; botocore has no timeout).
RESOLVE_TIMEOUT = 60.0


@dataclass(frozen=True)
class BotocoreRoot(Root):
    kind: ClassVar[str] = "botocore"
    hint: ClassVar[str] = "credential_process"

    profile: str
    settings: tuple[tuple[str, str], ...]  # the profile's settings, without secrets

    def identity(self) -> dict[str, object]:
        return {"type": "botocore", "profile": self.profile, "settings": list(self.settings)}

    def describe(self) -> str:
        return f"botocore profile {self.profile}"

    def credentials(self, store: Store) -> Keys:
        return _resolve(self)


def needs_botocore(settings: Mapping[str, Any]) -> bool:
    return any(key in settings for key in BOTOCORE_KEYS)


def root_from(name: str, settings: Mapping[str, Any]) -> BotocoreRoot:
    public = tuple(sorted((k, str(v)) for k, v in settings.items() if k not in SECRET_KEYS))
    return BotocoreRoot(profile=name, settings=public)


ROOT = BotocoreRoot


def match(candidate: Candidate, config: AwsConfig) -> BotocoreRoot | None:
    if candidate.origin != AWS_CONFIG or not needs_botocore(candidate.settings):
        return None
    return root_from(candidate.name, candidate.settings)


def _resolve(root: BotocoreRoot) -> Keys:
    from botocore import exceptions as bce

    from cred_export.aws.clients import botocore_session, error_code

    name = root.profile
    if not _reads_environment(root):
        # botocore starts credential_process with this process's environment; the caller's AWS
        # secrets must not reach it (a named profile never uses them anyway).
        subprocesses.remove_secret_variables()
    session = botocore_session(name)
    _forbid_prompts(session, name)
    log.debug(f"profile {name}: resolving through botocore")
    sign_in_errors = (bce.SSOTokenLoadError, bce.UnauthorizedSSOTokenError, bce.TokenRetrievalError)

    def resolve_and_freeze():  # type: ignore[no-untyped-def]
        # Freezing is part of the bound: deferred credentials (credential_source, web identity)
        # make their STS call only when frozen.
        creds = session.get_credentials()
        return creds, (creds.get_frozen_credentials() if creds is not None else None)

    try:
        creds, frozen = bounded.call(resolve_and_freeze, RESOLVE_TIMEOUT)
    except bounded.Overdue:
        raise UpstreamError(
            f"profile {name!r}: botocore did not resolve credentials within {RESOLVE_TIMEOUT:g} s",
            profile=name,
        ) from None
    except LoginRequired:
        raise
    except sign_in_errors:
        raise LoginRequired(name) from None
    except (bce.ProfileNotFound, bce.PartialCredentialsError, bce.InvalidConfigError) as exc:
        raise ConfigError(f"profile {name!r}: {exc}") from None
    except bce.ClientError as exc:
        code = error_code(exc)
        raise UpstreamError(f"profile {name!r}: AWS refused: {code}", profile=name, code=code) from None
    except bce.BotoCoreError as exc:
        raise UpstreamError(
            f"profile {name!r}: {first_line(exc) or type(exc).__name__}", profile=name
        ) from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise ConfigError(f"profile {name!r}: botocore found no credentials for it")
    expiry = getattr(creds, "_expiry_time", None)
    return Keys(
        frozen.access_key,
        frozen.secret_key,
        frozen.token or None,
        expiry.timestamp() if expiry is not None else None,
    )


def _reads_environment(root: BotocoreRoot) -> bool:
    """`credential_source = Environment`: the role is assumed with the keys in the environment."""
    return dict(root.settings).get("credential_source", "").strip().lower() == "environment"


def _forbid_prompts(session, profile: str) -> None:  # type: ignore[no-untyped-def]
    """botocore asks for MFA codes with getpass on the terminal; export must never prompt."""

    def refuse(_prompt: str = "") -> str:
        raise LoginRequired(profile, "MFA")

    resolver = session.get_component("credential_provider")
    provider = resolver.get_provider("assume-role")
    if provider is not None:
        provider._prompter = refuse  # botocore has no public hook for this


# A profile this source claims, as written where `ROOT.defined_in` says (for docs, and for the
# contract every source keeps: tests/test_source_contract.py).
EXAMPLE: dict[str, object] = {"credential_process": "/usr/local/bin/corp-credentials --account dev"}
