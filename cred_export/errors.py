"""Failure classes and the exit codes they map to (documented in README).

Each failure is one actionable line (`str(error)`) and carries the fields a caller may want to
act on: the profile, the service that answered and its error code.
"""

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
    """An interactive sign-in (browser, MFA) is needed before credentials can be issued.

    The line always names the command to run: `cred-export login --profile P`.
    """

    exit_code = EXIT_LOGIN_REQUIRED

    def __init__(self, profile: str, why: str = "", *, code: str | None = None) -> None:
        reason = f" ({why})" if why else ""
        super().__init__(
            f"sign-in required for profile {profile}: run cred-export login --profile {profile}{reason}"
        )
        self.profile = profile
        self.why = why
        self.code = code  # the service's error code, when one said so


class SignInNotCompleted(LoginRequired):
    """`login` itself ran the sign-in and nobody completed it in time: say so, not "run login"."""

    def __init__(self, profile: str, why: str, *, other_device_hint: bool = True) -> None:
        detail = "" if why.startswith("sign-in was not completed") else f" ({why})"
        hint = " or --device-code to sign in on another device" if other_device_hint else ""
        CredExportError.__init__(
            self,
            f"the sign-in for profile {profile} was not completed in time{detail}: try again, with"
            f" --timeout SECONDS for longer{hint}",
        )
        self.profile = profile
        self.why = why
        self.code = None


class UpstreamError(CredExportError):
    """The identity service refused or could not be reached (AWS or IdP)."""

    exit_code = EXIT_UPSTREAM

    def __init__(
        self,
        message: str,
        *,
        profile: str | None = None,
        service: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.profile = profile
        self.service = service  # "STS AssumeRole …", "SSO-OIDC", an IdP host
        self.code = code  # e.g. "AccessDenied", "invalid_grant"; None for network failures
