"""Answers from the cache alone: the export, `login` and `bedrock-token` on a warm cache.

These are the calls Claude Code and Claude Desktop make at every start, so they are answered
with the standard library, the resolution memo and one visit to the store: no click, no boto3,
no botocore, no config parsing. Each answer is the text to print, or None when the cache cannot
answer for sure (no memo for these inputs, a miss, credentials inside their refresh window, a
key for another region): the full CLI then does the work properly, with what this path learned.
"""

from __future__ import annotations

import os

from cred_export import log, stores
from cred_export.credentials import Credentials, mask
from cred_export.fast import memo, record
from cred_export.fast.invocation import BEDROCK_TOKEN, EXPORT, LOGIN, HitNotes, Request
from cred_export.fast.render import render, render_token, still_valid
from cred_export.fast.token_record import BedrockToken


def answer(request: Request, notes: HitNotes) -> str | None:
    """What to print for `request` from the cache alone, or None to take the slow path."""
    return _ANSWERS[request.command](request, notes)


def _export(request: Request, notes: HitNotes) -> str | None:
    found = _fresh_credentials(request, notes, _memo(request))
    return None if found is None else render(found[0], request.format)


def _login(request: Request, notes: HitNotes) -> str | None:
    found = _fresh_credentials(request, notes, _memo(request))
    return None if found is None else still_valid(request.profile, found[0])


def _bedrock_token(request: Request, notes: HitNotes) -> str | None:
    note = _memo(request)
    if note is None or not note.token_key:
        return None
    region = request.region or os.environ.get("AWS_REGION") or note.region
    found = _fresh_credentials(request, notes, note, note.token_key)
    if found is None or not region:
        return None
    creds, token_text = found
    token = BedrockToken.decode(token_text)
    if token is None or not token.fresh_for(creds, region, note.refresh_ahead):
        log.debug(f"profile {request.profile}: no fresh Bedrock API key for {region} in the cache")
        return None
    log.debug(f"profile {request.profile}: Bedrock API key from the cache")
    return render_token(token.token, request.format)


_ANSWERS = {EXPORT: _export, LOGIN: _login, BEDROCK_TOKEN: _bedrock_token}


def _memo(request: Request) -> memo.Memo | None:
    found = memo.read(memo.fingerprint(request.profile, request.profile_named))
    if found is None:
        log.debug(f"profile {request.profile}: no resolution memo for these inputs")
    return found


def _fresh_credentials(
    request: Request, notes: HitNotes, note: memo.Memo | None, other_key: str = ""
) -> tuple[Credentials, str | None] | None:
    """The profile's cached credentials if no refresh is due, and the text kept under `other_key`
    (read in the same visit to the store); None when the slow path must decide."""
    if note is None:
        return None
    profile = request.profile
    keys = (note.key, other_key) if other_key else (note.key,)
    try:
        texts = stores.fast_read(note.store, keys, note)
    except stores.StoreUnavailable as exc:
        notes.keyring_unavailable = str(exc)
        log.warn(f"{exc}; using the file cache instead", topic="keyring")
        return None
    creds = record.decode(texts[0])
    if creds is None:
        log.debug(f"cache miss for profile {profile} ({note.store})")
        return None
    left = creds.seconds_left()
    if left < creds.refresh_ahead(note.refresh_ahead):
        log.debug(f"cached credentials for profile {profile} expire in {left / 60:.0f} min: refresh")
        return None
    key_id = mask(creds.access_key_id)
    log.debug(f"cache hit for profile {profile} ({note.store}): {key_id}, {left / 60:.0f} min left")
    return creds, texts[1] if other_key else None
