"""What was asked: the profile to use, and the requests the hit path can answer, read from argv.

A leaf module: the console entry, the commands and the flows all choose the profile here, the
same way. The hit path answers three plain requests without click: the export (the default
command), `login` (Claude Code's awsAuthRefresh, run at every start) and `bedrock-token`.
Anything else — another command, an unknown or malformed option — is left to the full CLI.
"""

from __future__ import annotations

import os

from cred_export.fast.render import FORMATS, TOKEN_FORMATS

EXPORT = "export"
LOGIN = "login"
BEDROCK_TOKEN = "bedrock-token"

_PROFILE = {"--profile": "profile", "-p": "profile"}
# Per command: the options the hit path reads (option → field) and the values it accepts.
_OPTIONS = {
    EXPORT: {**_PROFILE, "--format": "format", "-f": "format"},
    LOGIN: {**_PROFILE, "--timeout": "timeout"},
    BEDROCK_TOKEN: {**_PROFILE, "--format": "format", "-f": "format", "--region": "region"},
}
# Flags the hit path may ignore: `login`'s choice of sign-in flow, moot when none is needed.
_IGNORED_FLAGS = {EXPORT: (), LOGIN: ("--device-code", "--remote", "--browser"), BEDROCK_TOKEN: ()}
LOGIN_TIMEOUTS = (5.0, 3600.0)  # `login --timeout`, seconds
_DEFAULT_FORMAT = {EXPORT: "claude", LOGIN: "", BEDROCK_TOKEN: "raw"}
_VALID_FORMATS = {EXPORT: FORMATS, LOGIN: ("",), BEDROCK_TOKEN: TOKEN_FORMATS}


def choose_profile(option: str | None) -> tuple[str, bool]:
    """The profile to use and whether it was named (`--profile`, else AWS_PROFILE, else default)."""
    if option:
        return option, True
    from_env = os.environ.get("AWS_PROFILE")
    return (from_env, True) if from_env else ("default", False)


class Request:
    """A plain `cred-export [export|login|bedrock-token] [--profile P] …` the hit path may answer."""

    __slots__ = ("command", "debug", "format", "profile", "profile_named", "region")

    def __init__(
        self, command: str, profile: str, profile_named: bool, fmt: str, debug: bool, region: str = ""
    ) -> None:
        self.command = command
        self.profile = profile
        self.profile_named = profile_named
        self.format = fmt
        self.debug = debug
        self.region = region  # bedrock-token's --region ("" when not given)


class HitNotes:
    """What the hit path learned that the slow path should not pay for again."""

    __slots__ = ("keyring_unavailable",)

    def __init__(self) -> None:
        self.keyring_unavailable: str | None = None  # why the OS keyring could not be read


def parse_request(argv: list[str]) -> Request | None:
    """The plain request in argv, or None if argv is anything the hit path should not answer."""
    command = argv[0] if argv[:1] and argv[0] in _OPTIONS else EXPORT
    args = argv[1:] if argv[:1] == [command] else argv
    options = _OPTIONS[command]
    values = {"format": _DEFAULT_FORMAT[command]}
    debug = False
    index = 0
    while index < len(args):
        arg = args[index]
        name, eq, value = arg.partition("=")
        if eq and not name.startswith("--"):
            return None  # `-p=x` means profile "=x" to click: let it decide
        if arg == "--debug":
            debug = True
        elif arg in _IGNORED_FLAGS[command]:
            pass
        elif name in options and (eq or index + 1 < len(args)):
            if not eq:
                index += 1
                value = args[index]
            values[options[name]] = value
        else:
            return None
        index += 1
    if values["format"] not in _VALID_FORMATS[command]:
        return None
    if "" in (values.get("profile"), values.get("region")):
        return None
    if "timeout" in values and not _is_login_timeout(values["timeout"]):
        return None  # click says what is wrong with it
    profile, named = choose_profile(values.get("profile"))
    return Request(command, profile, named, values["format"], debug, values.get("region", ""))


def _is_login_timeout(text: str) -> bool:
    try:
        seconds = float(text)
    except ValueError:
        return False
    return LOGIN_TIMEOUTS[0] <= seconds <= LOGIN_TIMEOUTS[1]
