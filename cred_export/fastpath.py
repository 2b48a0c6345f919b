"""The console entry point and the cache-hit path.

Claude Code runs `cred-export` on every credential reload, so the common case — valid
credentials already cached — is answered here with the standard library, the resolution
memo and the store reader alone: no click, no boto3, no botocore, no config parsing.
Anything this path is not sure about (another command, an unusual flag, no memo, a miss,
credentials inside the refresh window) is handed to the full CLI, which does it properly.
"""

from __future__ import annotations

import os
import sys
import time

from cred_export import log, memo, record
from cred_export.credentials import Credentials, mask
from cred_export.errors import StoreUnavailable

_VALUE_OPTIONS = {"--profile": "profile", "-p": "profile", "--format": "format", "-f": "format"}
FORMATS = ("claude", "process", "env")


class Notes:
    """What the hit path learned that the slow path should not pay for again."""

    keyring_unavailable: str | None = None


def main() -> None:
    argv = sys.argv[1:]
    request = parse_export_args(argv)
    if request is not None:
        if request.get("debug"):
            log.enable_debug()
        try:
            creds = cache_hit(request["profile"], request["named"] == "1")
        except Exception as exc:  # the slow path will do it properly and report errors
            log.debug(f"fast path gave up: {type(exc).__name__}")
            creds = None
        if creds is not None:
            from cred_export.render import render

            _emit(render(creds, request["format"]))
            return
    from cred_export.cli import run

    sys.exit(run(argv))


def parse_export_args(argv: list[str]) -> dict[str, str] | None:
    """The export request in argv, or None if argv is anything but a plain export."""
    args = argv[1:] if argv[:1] == ["export"] else argv
    request = {"format": "claude"}
    index = 0
    while index < len(args):
        arg = args[index]
        name, eq, value = arg.partition("=")
        if eq and not name.startswith("--"):
            return None  # `-p=x` means profile "=x" to click: let it decide
        if arg == "--debug":
            request["debug"] = "1"
        elif name in _VALUE_OPTIONS and (eq or index + 1 < len(args)):
            if not eq:
                index += 1
                value = args[index]
            request[_VALUE_OPTIONS[name]] = value
        else:
            return None
        index += 1
    if request["format"] not in FORMATS:
        return None
    if "profile" in request and not request["profile"]:
        return None
    name, named = choose_profile(request.get("profile"))
    request["profile"], request["named"] = name, "1" if named else "0"
    return request


def choose_profile(option: str | None) -> tuple[str, bool]:
    """The profile to use and whether it was named (`--profile`, else AWS_PROFILE, else default)."""
    if option:
        return option, True
    from_env = os.environ.get("AWS_PROFILE")
    return (from_env, True) if from_env else ("default", False)


def cache_hit(profile: str, profile_named: bool) -> Credentials | None:
    """Fresh cached credentials for the profile, or None (then the slow path decides)."""
    fields = memo.read(memo.fingerprint(profile, profile_named))
    if fields is None:
        log.debug(f"profile {profile}: no resolution memo for these inputs")
        return None
    key, store = fields.get("key", ""), fields.get("store", "")
    creds = _read_store(store, key, fields)
    if creds is None:
        log.debug(f"cache miss for profile {profile} ({store})")
        return None
    left = creds.seconds_left()
    if left < float(fields.get("refresh_ahead", "900")):
        log.debug(f"cached credentials for profile {profile} expire in {left / 60:.1f} min: refresh")
        return None
    log.debug(
        f"cache hit for profile {profile} ({store}): {mask(creds.access_key_id)}, {left / 60:.0f} min left"
    )
    return creds


def _read_store(store: str, key: str, fields: dict[str, str]) -> Credentials | None:
    if store == "keyring-secret-service":
        try:
            return _read_secret_service(key, float(fields.get("keyring_timeout", "2")))
        except StoreUnavailable as exc:
            Notes.keyring_unavailable = str(exc)
            log.warn(f"{exc}; using the file cache instead", topic="keyring")
            store = "file-fallback"
    if store == "file-fallback" and time.time() > float(fields.get("retry_keyring_after", "0")):
        return None  # time to see whether the keyring is back (the slow path does)
    if store in ("file", "file-fallback"):
        from cred_export.stores.file_store import FileStore

        if store == "file-fallback":
            reason = fields.get("fallback_reason", "the OS keyring is unavailable")
            log.warn(f"{reason}; using the file cache", topic="keyring")
        return FileStore().get(key)
    if store == "keyring-library":
        from cred_export.stores.keyring_store import KeyringStore

        return KeyringStore(float(fields.get("keyring_timeout", "2")), int(fields.get("chunk", "0"))).get(key)
    return None  # "none" or unknown: always the slow path


def _read_secret_service(key: str, timeout: float) -> Credentials | None:
    from cred_export.stores import KEYRING_SERVICE as SERVICE
    from cred_export.stores.secret_service import SecretServiceReader

    with SecretServiceReader(timeout) as reader:
        return record.decode(reader.get_text(SERVICE, key))


def _emit(document: str) -> None:
    try:
        sys.stdout.write(document)
        sys.stdout.flush()
    except BrokenPipeError:
        os._exit(0)
