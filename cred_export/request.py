"""What was asked: the profile to use, and a plain export request as the hit path reads argv.

A leaf module: the console entry, the commands and the flows all choose the profile here, the
same way.
"""

from __future__ import annotations

import os

from cred_export.render import FORMATS

_VALUE_OPTIONS = {"--profile": "profile", "-p": "profile", "--format": "format", "-f": "format"}


def choose_profile(option: str | None) -> tuple[str, bool]:
    """The profile to use and whether it was named (`--profile`, else AWS_PROFILE, else default)."""
    if option:
        return option, True
    from_env = os.environ.get("AWS_PROFILE")
    return (from_env, True) if from_env else ("default", False)


class ExportRequest:
    """A plain `cred-export [export] [--profile P] [--format F] [--debug]`."""

    __slots__ = ("debug", "format", "profile", "profile_named")

    def __init__(self, profile: str, profile_named: bool, fmt: str, debug: bool) -> None:
        self.profile = profile
        self.profile_named = profile_named
        self.format = fmt
        self.debug = debug


class HitNotes:
    """What the hit path learned that the slow path should not pay for again."""

    __slots__ = ("keyring_unavailable",)

    def __init__(self) -> None:
        self.keyring_unavailable: str | None = None  # why the OS keyring could not be read


def parse_export_request(argv: list[str]) -> ExportRequest | None:
    """The export request in argv, or None if argv is anything but a plain export."""
    args = argv[1:] if argv[:1] == ["export"] else argv
    values = {"format": "claude"}
    debug = False
    index = 0
    while index < len(args):
        arg = args[index]
        name, eq, value = arg.partition("=")
        if eq and not name.startswith("--"):
            return None  # `-p=x` means profile "=x" to click: let it decide
        if arg == "--debug":
            debug = True
        elif name in _VALUE_OPTIONS and (eq or index + 1 < len(args)):
            if not eq:
                index += 1
                value = args[index]
            values[_VALUE_OPTIONS[name]] = value
        else:
            return None
        index += 1
    if values["format"] not in FORMATS:
        return None
    if "profile" in values and not values["profile"]:
        return None
    profile, named = choose_profile(values.get("profile"))
    return ExportRequest(profile, named, values["format"], debug)
