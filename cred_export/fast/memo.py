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

# Environment variables beside every AWS_* one whose values change what a profile resolves to.
_ENVIRONMENT = ("CRED_EXPORT_CACHE", "PYTHON_KEYRING_BACKEND")
# AWS_* variables that hold secrets: only whether they are set is part of the fingerprint.
_SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD")


def fingerprint(profile: str, profile_named: bool) -> str:
    """Every input of resolution, as one string; no secret is part of it.

    Every AWS_* variable counts (endpoints, config file locations, the login cache directory, …),
    so a source that reads a new one needs no change here; secret ones count only as set or not.
    """
    parts = [f"profile={profile}", f"named={int(profile_named)}"]
    parts += [f"{name}={os.environ.get(name, '')}" for name in _ENVIRONMENT]
    for name in sorted(name for name in os.environ if name.startswith("AWS_")):
        secret = any(word in name for word in _SECRET_WORDS)
        parts.append(f"{name}={'(set)' if secret else os.environ[name].replace(chr(10), ' ')}")
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


class Memo:
    """The memo's fields and their defaults: the one place they are named.

    `store` is the store's kind (see `cred_export.stores`), which tells the hit path how to read
    `key`; `token_key` is where the profile's Bedrock API key is kept and `region` the profile's
    own region (for `bedrock-token`); the rest are the settings the hit path needs without
    parsing the settings files.
    """

    __slots__ = (
        "chunk",
        "fallback_reason",
        "key",
        "keyring_timeout",
        "refresh_ahead",
        "region",
        "retry_keyring_after",
        "store",
        "token_key",
    )

    def __init__(
        self,
        key: str,
        store: str,
        *,
        refresh_ahead: float = 900.0,
        keyring_timeout: float = 2.0,
        chunk: int = 0,
        fallback_reason: str | None = None,
        retry_keyring_after: float = 0.0,
        token_key: str = "",
        region: str = "",
    ) -> None:
        self.key = key
        self.store = store
        self.refresh_ahead = refresh_ahead
        self.keyring_timeout = keyring_timeout
        self.chunk = chunk
        self.fallback_reason = fallback_reason
        self.retry_keyring_after = retry_keyring_after
        self.token_key = token_key
        self.region = region

    def lines(self) -> str:
        fields = {
            "key": self.key,
            "store": self.store,
            "refresh_ahead": f"{self.refresh_ahead:g}",
            "keyring_timeout": f"{self.keyring_timeout:g}",
            "chunk": str(self.chunk),
        }
        if self.token_key:
            fields["token_key"] = self.token_key
        if self.region:
            fields["region"] = self.region.replace("\n", " ")
        if self.fallback_reason:
            fields["fallback_reason"] = self.fallback_reason.replace("\n", " ")
            fields["retry_keyring_after"] = str(int(self.retry_keyring_after))
        return "".join(f"{name}={value}\n" for name, value in fields.items())

    @classmethod
    def parse(cls, lines: list[str]) -> Memo | None:
        """The memo in `lines` (`name=value`); None when a field is missing or malformed."""
        fields = {}
        for line in lines:
            name, sep, value = line.partition("=")
            if sep:
                fields[name] = value
        try:
            return cls(
                fields["key"],
                fields["store"],
                refresh_ahead=float(fields.get("refresh_ahead", "900")),
                keyring_timeout=float(fields.get("keyring_timeout", "2")),
                chunk=int(fields.get("chunk", "0")),
                fallback_reason=fields.get("fallback_reason") or None,
                retry_keyring_after=float(fields.get("retry_keyring_after", "0")),
                token_key=fields.get("token_key", ""),
                region=fields.get("region", ""),
            )
        except (KeyError, ValueError):
            return None


def read(print_: str) -> Memo | None:
    """The memo written for exactly this fingerprint, if there is one."""
    text = files.read_text(_memo_path(print_), limit=64 * 1024, private=True)
    if not text:
        return None
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != MAGIC or lines[1] != print_:
        return None
    return Memo.parse(lines[2:])


def write(print_: str, memo: Memo) -> None:
    files.write_private(_memo_path(print_), f"{MAGIC}\n{print_}\n{memo.lines()}")
