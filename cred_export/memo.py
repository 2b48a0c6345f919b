"""The resolution memo: what the slow path learned, so the hit path need not parse config.

Resolving a profile means parsing `~/.aws/config`, the credentials file and TOML, which
on the cache-hit path would cost more than everything else (those parsers import `re`).
The slow path therefore writes, per set of inputs, a small memo: the cache key it derived
and the store it used. The hit path recomputes the inputs' *fingerprint* — the profile,
the environment variables that steer resolution, and the identity (inode, size, mtime) of
every file read — and trusts the memo only when the fingerprint matches exactly.
"""

from __future__ import annotations

import os
import zlib

from cred_export import files, paths

MAGIC = "cred-export-memo 1"

# Environment variables whose values change what a profile resolves to.
_ENVIRONMENT = (
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "CRED_EXPORT_CACHE",
    "PYTHON_KEYRING_BACKEND",
)


def fingerprint(profile: str, profile_named: bool) -> str:
    """Every input of resolution, as one string; no secret is part of it."""
    parts = [f"profile={profile}", f"named={int(profile_named)}"]
    parts += [f"{name}={os.environ.get(name, '')}" for name in _ENVIRONMENT]
    parts.append(f"secret_in_env={int(bool(os.environ.get('AWS_SECRET_ACCESS_KEY')))}")
    for path in _inputs():
        parts.append(f"file={path}:{_file_identity(path)}")
    return "\x1f".join(parts)


def _inputs() -> tuple[str, ...]:
    return (
        paths.aws_config_file(),
        paths.aws_credentials_file(),
        paths.system_config_file(),
        paths.user_config_file(),
    )


def _file_identity(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_ino}.{st.st_size}.{st.st_mtime_ns}"


def _memo_path(print_: str) -> str:
    name = f"{zlib.crc32(print_.encode('utf-8', 'surrogateescape')):08x}"
    return os.path.join(paths.cache_dir(), "memo", name)


def read(print_: str) -> dict[str, str] | None:
    """The memo's fields if one exists for exactly this fingerprint."""
    text = files.read_text(_memo_path(print_), limit=64 * 1024)
    if not text:
        return None
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != MAGIC or lines[1] != print_:
        return None
    fields = {}
    for line in lines[2:]:
        key, sep, value = line.partition("=")
        if sep:
            fields[key] = value
    return fields


def write(print_: str, fields: dict[str, str]) -> None:
    body = "".join(f"{key}={value}\n" for key, value in fields.items())
    files.write_private(_memo_path(print_), f"{MAGIC}\n{print_}\n{body}")
