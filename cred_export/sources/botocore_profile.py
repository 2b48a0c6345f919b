"""Any profile botocore can resolve by itself: credential_process, web identity, SSO, …"""

from __future__ import annotations

from botocore import exceptions as bce

from cred_export import bounded, children, log
from cred_export.chain import BotocoreRoot
from cred_export.errors import ConfigError, LoginRequired, UpstreamError, sign_in_required
from cred_export.sts import Keys, botocore_session

# Bound for the whole resolution (a credential_process may hang; botocore has no timeout).
RESOLVE_TIMEOUT = 60.0

_SIGN_IN_ERRORS = (bce.SSOTokenLoadError, bce.UnauthorizedSSOTokenError, bce.TokenRetrievalError)


def resolve(root: BotocoreRoot) -> Keys:
    name = root.profile
    if not _reads_environment(root):
        # botocore starts credential_process with this process's environment; the caller's AWS
        # secrets must not reach it (a named profile never uses them anyway).
        children.remove_secret_variables()
    session = botocore_session(name)
    _forbid_prompts(session, name)
    log.debug(f"profile {name}: resolving through botocore")
    try:
        creds = bounded.call(session.get_credentials, RESOLVE_TIMEOUT)
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except bounded.Overdue:
        raise UpstreamError(
            f"profile {name!r}: botocore did not resolve credentials within {RESOLVE_TIMEOUT:g} s"
        ) from None
    except LoginRequired:
        raise
    except _SIGN_IN_ERRORS:
        raise sign_in_required(name) from None
    except (bce.ProfileNotFound, bce.PartialCredentialsError, bce.InvalidConfigError) as exc:
        raise ConfigError(f"profile {name!r}: {exc}") from None
    except bce.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise UpstreamError(f"profile {name!r}: AWS refused: {code}") from None
    except bce.BotoCoreError as exc:
        raise UpstreamError(f"profile {name!r}: {_one_line(exc)}") from None
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
        raise sign_in_required(profile, "MFA")

    resolver = session.get_component("credential_provider")
    provider = resolver.get_provider("assume-role")
    if provider is not None:
        provider._prompter = refuse  # botocore has no public hook for this


def _one_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
