"""Check 13 (`desktop`): Claude Desktop's credential helper — set up, silent, and printing a token that lives.

Runs the helper as Claude Desktop would in the background (`CLAUDE_HELPER_CONTEXT=background`,
no arguments, no input, bounded), and reads the token it prints: a Bedrock API key is a
presigned request, so its region and its end (X-Amz-Date + X-Amz-Expires) can be told offline.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

from cred_export.claude import desktop_config, installed
from cred_export.claude.desktop_config import HelperChoice
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, warn
from cred_export.errors import EXIT_LOGIN_REQUIRED, ConfigError
from cred_export.settings import load_settings
from cred_export.util.subprocesses import child_environment
from cred_export.util.text import first_line

CHECK = "desktop"
KEY_PREFIX = "bedrock-api-key-"
# Doctor waits at most this long for the helper (its own timeout may be up to 10 minutes).
RUN_LIMIT_SECONDS = 60.0


def check_claude_desktop(ctx: Context) -> Check:
    try:
        choice = HelperChoice.from_settings((ctx.settings or load_settings()).claude_desktop)
    except ConfigError as exc:
        return fail(CHECK, str(exc), "fix [claude_desktop], or run cred-export setup claude-desktop again")
    if choice is None:
        return ok(CHECK, "not set up (cred-export setup claude-desktop makes cred-export its helper)")
    executable, mismatch = _configured_helper(choice)
    if executable is None:
        return fail(CHECK, "cannot tell which cred-export Claude Desktop runs", _rerun_setup(choice))
    verdict = _run(choice, executable)
    if verdict.verdict == "ok" and mismatch:
        return warn(
            CHECK, f"{verdict.detail}; but Claude Desktop's configuration {mismatch}", _rerun_setup(choice)
        )
    return verdict


def _configured_helper(choice: HelperChoice) -> tuple[str | None, str | None]:
    """The helper Claude Desktop's local configuration names (else this cred-export), and how
    that configuration disagrees with cred-export's settings, if it does."""
    directory = desktop_config.library_dir()
    try:
        entry = desktop_config.read_library_entry(directory) if directory else None
    except ConfigError:
        entry = None
    if not entry:
        return installed.executable(), None
    expected = {
        "inferenceBedrockRegion": choice.region,
        "inferenceCredentialHelperTtlSec": choice.ttl_seconds,
    }
    differs = [key for key, value in expected.items() if entry.get(key) != value]
    mismatch = f"has another {' and '.join(differs)}" if differs else None
    helper = entry.get("inferenceCredentialHelper")
    return (helper if isinstance(helper, str) and helper else installed.executable()), mismatch


def _run(choice: HelperChoice, executable: str) -> Check:
    env = {**child_environment(), "CLAUDE_HELPER_CONTEXT": "background"}
    limit = min(float(choice.timeout_seconds), RUN_LIMIT_SECONDS)
    try:
        done = subprocess.run(
            [executable], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return fail(
            CHECK, f"the helper {executable} ran over {limit:.0f} s", "run cred-export doctor --debug"
        )
    except OSError as exc:
        return fail(CHECK, f"cannot run the helper {executable}: {exc.strerror}", _rerun_setup(choice))
    if done.returncode != 0:
        said = first_line(done.stderr.strip().removeprefix("cred-export: ")) or "no message"
        detail = f"the helper exits {done.returncode} in the background: {said}"
        if done.returncode == EXIT_LOGIN_REQUIRED:
            return fail(
                CHECK,
                detail,
                f"run cred-export login --profile {choice.profile} (Claude Desktop also signs in"
                " when you start a session)",
            )
        return fail(CHECK, detail, "fix what the message says")
    return _judge(choice, done.stdout)


def _judge(choice: HelperChoice, stdout: str) -> Check:
    facts = token_facts(stdout)
    if facts is None or stdout != stdout.strip():
        return fail(
            CHECK, "the helper's output is not one bare Bedrock API key", "run cred-export doctor --debug"
        )
    region, ends = facts
    if region != choice.region:
        return fail(CHECK, f"the helper's token is for {region}, not {choice.region}", _rerun_setup(choice))
    left = ends - time.time()
    if left < choice.ttl_seconds:
        return fail(
            CHECK,
            f"the helper's token has {left / 60:.0f} min left,"
            f" less than the {choice.ttl_seconds // 60} min TTL",
            "pass a shorter --ttl to cred-export setup claude-desktop",
        )
    return ok(
        CHECK,
        f"profile {choice.profile}: a token for {region} with {left / 60:.0f} min left"
        f" (Claude Desktop keeps it {choice.ttl_seconds // 60} min)",
    )


def token_facts(token: str) -> tuple[str, float] | None:
    """The region of a Bedrock API key and when it stops working; None if it is not one."""
    if not token.startswith(KEY_PREFIX):
        return None
    try:
        url = base64.b64decode(token[len(KEY_PREFIX) :], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    parts = urlsplit("https://" + url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    scope = query.get("X-Amz-Credential", "").split("/")
    try:
        signed = calendar.timegm(time.strptime(query.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ"))
        expires = int(query.get("X-Amz-Expires", ""))
    except ValueError:
        return None
    if (
        parts.hostname != "bedrock.amazonaws.com"
        or len(scope) != 5
        or scope[3:] != ["bedrock", "aws4_request"]
    ):
        return None
    return scope[2], float(signed + expires)


def _rerun_setup(choice: HelperChoice) -> str:
    return f"run cred-export setup claude-desktop --profile {choice.profile} --region {choice.region}"
