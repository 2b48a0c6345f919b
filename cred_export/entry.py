"""The console entry point and the cache-hit path.

Claude Code runs `cred-export` on every credential reload, so the common case — valid
credentials already cached — is answered here with the standard library, the resolution
memo and one store reader alone: no click, no boto3, no botocore, no config parsing.
Anything this path is not sure about (another command, an unusual flag, no memo, a miss,
credentials inside the refresh window) is handed to the full CLI, which does it properly,
with what this path learned.

Only light modules are imported here, and the store reader only when its kind is read:
`tests/test_hit_path.py` fails if a hit loads boto3, botocore, click, keyring or a parser.
"""

from __future__ import annotations

import os
import sys

from cred_export import coredumps, log, memo, stores
from cred_export.credentials import Credentials, mask
from cred_export.request import ExportRequest, HitNotes, parse_export_request


def main() -> None:
    coredumps.disable()  # before any secret is read
    argv = sys.argv[1:]
    notes = HitNotes()
    request = parse_export_request(argv)
    if request is not None:
        if request.debug:
            log.enable_debug()
        try:
            creds = cache_hit(request, notes)
        except Exception as exc:  # the slow path will do it properly and report errors
            log.debug(f"fast path gave up: {type(exc).__name__}")
            creds = None
        if creds is not None:
            from cred_export.render import render

            _emit(render(creds, request.format))
            return
    from cred_export.cli import run

    sys.exit(run(argv, notes))


def cache_hit(request: ExportRequest, notes: HitNotes) -> Credentials | None:
    """Fresh cached credentials for the request's profile, or None (then the slow path decides)."""
    profile = request.profile
    found = memo.read(memo.fingerprint(profile, request.profile_named))
    if found is None:
        log.debug(f"profile {profile}: no resolution memo for these inputs")
        return None
    try:
        creds = stores.fast_read(found.store, found.key, found)
    except stores.StoreUnavailable as exc:
        notes.keyring_unavailable = str(exc)
        log.warn(f"{exc}; using the file cache instead", topic="keyring")
        return None
    if creds is None:
        log.debug(f"cache miss for profile {profile} ({found.store})")
        return None
    left = creds.seconds_left()
    if left < creds.refresh_ahead(found.refresh_ahead):
        log.debug(f"cached credentials for profile {profile} expire in {left / 60:.0f} min: refresh")
        return None
    key_id = mask(creds.access_key_id)
    log.debug(f"cache hit for profile {profile} ({found.store}): {key_id}, {left / 60:.0f} min left")
    return creds


def _emit(document: str) -> None:
    try:
        sys.stdout.write(document)
        sys.stdout.flush()
    except BrokenPipeError:
        os._exit(0)
