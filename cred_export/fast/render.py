"""What cred-export prints on stdout: the three credential documents (Claude Code's nested JSON,
credential_process, shell env), a Bedrock API key, and `login`'s line when no sign-in is needed.

On the cache-hit path: JSON is written by hand because `import json` pulls in `re` and
`enum`, which cost as much as the rest of a hit. Values that would need escaping (never
seen from AWS) take the `json` module's path instead, so the output is always valid JSON.
"""

from __future__ import annotations

from cred_export.credentials import Credentials, format_iso

FORMATS = ("claude", "process", "env")
TOKEN_FORMATS = ("raw", "env")  # `bedrock-token --format`

# Characters that never need escaping in a JSON string nor quoting in a POSIX shell word.
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:.-_")


def render(creds: Credentials, fmt: str) -> str:
    """The newline-terminated document for `fmt` (one of FORMATS)."""
    fields = creds.fields()
    if fmt == "env":
        return "".join(f"export {_env_name(name)}={_shell_word(value)}\n" for name, value in fields)
    if fmt == "claude":
        return '{"Credentials": ' + _json_object(fields) + "}\n"
    if fmt == "process":
        return _json_object((("Version", 1), *fields)) + "\n"
    raise ValueError(f"unknown format {fmt!r}")


def render_token(token: str, fmt: str) -> str:
    """A Bedrock API key as `bedrock-token --format` prints it: `raw`, or an `env` line."""
    return f"export AWS_BEARER_TOKEN_BEDROCK={_shell_word(token)}\n" if fmt == "env" else token + "\n"


def still_valid(profile: str, creds: Credentials) -> str:
    """`login`'s line when the profile's cached credentials need no sign-in."""
    return (
        f"Credentials for profile {profile} are valid until {format_iso(creds.expiration)}"
        f" ({creds.seconds_left() / 60:.0f} min left); no sign-in needed.\n"
    )


def _json_object(fields: tuple[tuple[str, object], ...]) -> str:
    if all(isinstance(v, int) or _PLAIN.issuperset(v) for _, v in fields):  # type: ignore[arg-type]
        inner = ", ".join(
            f'"{name}": {value}' if isinstance(value, int) else f'"{name}": "{value}"'
            for name, value in fields
        )
        return "{" + inner + "}"
    import json

    return json.dumps(dict(fields))


def _env_name(field: str) -> str:
    return {
        "AccessKeyId": "AWS_ACCESS_KEY_ID",
        "SecretAccessKey": "AWS_SECRET_ACCESS_KEY",
        "SessionToken": "AWS_SESSION_TOKEN",
        "Expiration": "AWS_CREDENTIAL_EXPIRATION",
    }[field]


def _shell_word(value: str) -> str:
    if value and _PLAIN.issuperset(value):
        return value
    import shlex

    return shlex.quote(value)
