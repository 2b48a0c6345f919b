"""Failure classes and the exit codes they map to (documented in README)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2
EXIT_LOGIN_REQUIRED = 3
EXIT_UPSTREAM = 4


class CredExportError(Exception):
    """An expected failure: one actionable line on stderr and a documented exit code."""

    exit_code = EXIT_UNEXPECTED


class ConfigError(CredExportError):
    """Usage or configuration is wrong; the user must change a file or a flag."""

    exit_code = EXIT_CONFIG


class LoginRequired(CredExportError):
    """An interactive sign-in (browser, MFA) is needed before credentials can be issued."""

    exit_code = EXIT_LOGIN_REQUIRED


def sign_in_required(profile: str, why: str = "") -> LoginRequired:
    """The one line every "you must sign in" failure uses, naming the command to run."""
    reason = f" ({why})" if why else ""
    return LoginRequired(
        f"sign-in required for profile {profile}: run cred-export login --profile {profile}{reason}"
    )


class UpstreamError(CredExportError):
    """The identity service refused or could not be reached (AWS or IdP)."""

    exit_code = EXIT_UPSTREAM


class StoreUnavailable(Exception):
    """A credential store cannot be used on this machine right now (internal signal)."""
