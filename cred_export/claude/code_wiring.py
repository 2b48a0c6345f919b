"""What `cred-export setup claude` puts into Claude Code's settings, and how it changes the file.

Claude Code's user settings file is shared with the user and with Claude Code itself, so:
every key cred-export does not own is kept (including other `env` entries and other custom
headers); a file that is not a JSON object is never overwritten; the previous version is kept
beside it as `settings.json.bak` (replaced by the next change, and only when something
changes); and the new file replaces the old one atomically (temp file + rename) with the old
file's mode. A symlinked settings file (dotfiles) is updated where it points.
"""

from __future__ import annotations

import difflib
import json
import os
import posixpath
import re
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cred_export import log
from cred_export.claude import code_settings, installed
from cred_export.claude.code_settings import SettingsFile
from cred_export.claude.iam_policy import is_bare_foundation_model, is_region
from cred_export.errors import ConfigError
from cred_export.files import write_atomic

GUARDRAIL_HEADERS = ("X-Amzn-Bedrock-GuardrailIdentifier", "X-Amzn-Bedrock-GuardrailVersion")
_GUARDRAIL_ID = re.compile(
    r"[a-z0-9]+|arn:aws(-[a-z-]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+"
)
_GUARDRAIL_VERSION = re.compile(r"[1-9][0-9]{0,7}|DRAFT")
_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]")
# What cmd.exe and the program's argument parser both read as one plain word, so it needs no
# quotes. The program itself is the command token, which cmd.exe also ends at `,` `;` `=` (and it
# can read `/` as a switch), so it gets the narrower set.
_CMD_BARE_ARGUMENT = re.compile(r"[A-Za-z0-9_\-.:\\/=+,@]+")
_CMD_BARE_PROGRAM = re.compile(r"[A-Za-z0-9_\-.:\\]+")
# Characters no quoting makes safe on a cmd.exe command line, and why.
_CMD_UNQUOTABLE = {
    '"': "which cmd.exe and the program's argument parser would read differently",
    "%": "which cmd.exe expands as %NAME% even inside quotes",
    "!": "which cmd.exe expands as !NAME! even inside quotes (delayed expansion)",
}
# Characters no hook command may hold, for /bin/sh and cmd.exe alike.
_LINE_ENDS_AND_NUL = {
    "\r": "which would end the hook's command line",
    "\n": "which would end the hook's command line",
    "\0": "which no command line can hold",
}


@dataclass(frozen=True)
class Wiring:
    """Everything `setup claude` was asked to configure."""

    executable: str
    profile: str
    region: str
    model: str | None = None
    haiku_model: str | None = None
    guardrail: str | None = None  # "ID:VERSION", validated

    def document(self) -> dict[str, Any]:
        """The keys cred-export owns: the managed-settings document, and what user settings get."""
        env = {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": self.region}
        if self.model:
            env["ANTHROPIC_MODEL"] = self.model
        if self.haiku_model:
            env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] = self.haiku_model
        if self.guardrail:
            env["ANTHROPIC_CUSTOM_HEADERS"] = guardrail_headers(self.guardrail)
        return {
            "awsCredentialExport": command_line(self.executable, "--profile", self.profile),
            "awsAuthRefresh": command_line(self.executable, "login", "--profile", self.profile),
            "env": env,
        }


# --- the values ---------------------------------------------------------------------------


def executable_path(override: str | None = None) -> str:
    """The absolute path Claude Code should run: `override`, else this program as installed."""
    if override is not None:
        if not (posixpath.isabs(override) or _WINDOWS_PATH.match(override)):
            raise ConfigError(f"--executable {override!r} must be an absolute path")
        return override
    found = installed.executable()
    if found is None:
        raise ConfigError(
            "cannot tell where cred-export is installed: pass --executable /path/to/cred-export"
        )
    return found


def hook_profile(words: list[str]) -> str | None:
    """The `--profile`/`-p` a hook command's words pass, if any."""
    for index, word in enumerate(words):
        if word in ("--profile", "-p") and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--profile="):
            return word.partition("=")[2]
    return None


def configured(path: Path) -> tuple[str | None, str | None]:
    """The profile and region a settings file already wires Claude Code to (None where it does not)."""
    try:
        data = code_settings.read_settings(path).data
    except ConfigError:
        return None, None
    command = data.get("awsCredentialExport")
    profile = None
    if isinstance(command, str):
        try:
            profile = hook_profile(shlex.split(command, posix=os.name != "nt"))
        except ValueError:
            profile = None
    env = data.get("env")
    region = env.get("AWS_REGION") if isinstance(env, dict) else None
    return profile or None, region if isinstance(region, str) and region.strip() else None


def command_line(executable: str, *args: str) -> str:
    """A command line for the shell Claude Code runs hooks with (`/bin/sh`, `cmd` on Windows).

    ConfigError, naming the word and the character, for a word no quoting makes safe there.
    """
    words = [executable, *args]
    windows = os.name == "nt" or bool(_WINDOWS_PATH.match(executable))
    unsafe = {**_LINE_ENDS_AND_NUL, **_CMD_UNQUOTABLE} if windows else _LINE_ENDS_AND_NUL
    for index, word in enumerate(words):
        for char in word:
            if char in unsafe:
                raise ConfigError(
                    f"{_word_name(words, index)} {word!r} contains {char!r}, {unsafe[char]};"
                    " no quoting makes it safe in the command Claude Code runs"
                )
    if windows:
        return " ".join([cmd_quote(executable, program=True), *(cmd_quote(arg) for arg in args)])
    return shlex.join(words)


def cmd_quote(word: str, *, program: bool = False) -> str:
    """`word` written so that cmd.exe, then the C runtime's argument parser, read it back as is:
    bare when plain, else in double quotes, inside which cmd.exe takes `& | < > ^ ( )` and
    spaces literally.

    An argument's trailing backslashes are doubled so that the closing quote stays a quote; the
    program name is read without backslash escapes, so its backslashes are kept as they are. The
    caller refuses `"`, `%`, `!`, CR, LF and NUL first (see command_line).
    """
    bare = _CMD_BARE_PROGRAM if program else _CMD_BARE_ARGUMENT
    if bare.fullmatch(word):
        return word
    if program:
        return f'"{word}"'
    trailing = word[len(word.rstrip("\\")) :]
    return f'"{word}{trailing}"'


def _word_name(words: list[str], index: int) -> str:
    """How a refusal names a word: the option it is the value of, else what it is."""
    if index == 0:
        return "the cred-export path"
    if words[index - 1].startswith("--"):
        return words[index - 1]
    return "argument"


def region_for(option: str | None, profile_region: str | None, *, product: str = "Claude Code") -> str:
    """--region, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's `region`; `product`
    names what the region is for in the error when there is none."""
    candidates = (
        ("--region", option),
        ("AWS_REGION", os.environ.get("AWS_REGION")),
        ("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION")),
        ("the profile's region", profile_region),
    )
    for source, value in candidates:
        region = (value or "").strip()
        if region:
            if not is_region(region):
                raise ConfigError(f"{source} {region!r} is not an AWS region (e.g. us-east-1)")
            log.debug(f"region {region} from {source}")
            return region
    raise ConfigError(f"no AWS region for {product}: pass --region (e.g. --region us-east-1)")


def guardrail_headers(spec: str) -> str:
    """`ID:VERSION` → the two header lines Bedrock Guardrails reads (ID may be a guardrail ARN)."""
    ident, colon, version = spec.strip().rpartition(":")
    if not colon or not _GUARDRAIL_ID.fullmatch(ident) or not _GUARDRAIL_VERSION.fullmatch(version):
        raise ConfigError(
            f"--guardrail {spec!r} is not ID:VERSION (e.g. --guardrail abc123xyz456:1, or :DRAFT)"
        )
    return f"{GUARDRAIL_HEADERS[0]}: {ident}\n{GUARDRAIL_HEADERS[1]}: {version}"


def model_warning(flag: str, model: str | None) -> str | None:
    """A warning when `model` is a foundation model id Bedrock only serves via an inference profile."""
    if not model or not is_bare_foundation_model(model):
        return None
    suggestions = f"global.{model} or us.{model}"
    return (
        f"{flag} {model} is a foundation model id; Bedrock answers \"on-demand throughput isn't"
        f' supported" unless you use an inference profile, e.g. {suggestions}'
    )


# --- the file ------------------------------------------------------------------------------


def read_settings(path: Path) -> SettingsFile:
    """Claude Code's settings file for `setup` to rewrite: ConfigError unless `env` is an object too."""
    settings = code_settings.read_settings(path)
    if not isinstance(settings.data.get("env", {}), dict):
        raise ConfigError(f'{path}: "env" is not a JSON object: fix it, then run setup again')
    return settings


def merged(current: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """`current` with cred-export's keys set; every other key and `env` entry kept, order too."""
    result = {**current}
    for key, value in ours.items():
        if key != "env":
            result[key] = value
    env = {**current.get("env", {})}
    for name, value in ours["env"].items():
        if name == "ANTHROPIC_CUSTOM_HEADERS":
            value = _merge_headers(env.get(name), value)
        env[name] = value
    result["env"] = env
    return result


def _merge_headers(existing: Any, ours: str) -> str:
    """Our guardrail header lines, after any other custom header lines already configured."""
    if not isinstance(existing, str):
        return ours
    names = {name.lower() for name in GUARDRAIL_HEADERS}
    kept = [
        line
        for line in existing.splitlines()
        if line.strip() and line.partition(":")[0].strip().lower() not in names
    ]
    return "\n".join([*kept, ours])


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Dotted names of the keys whose value differs (`env.AWS_REGION`)."""
    changed = []
    for key, value in after.items():
        if key == "env":
            old_env = before.get("env", {})
            changed += [f"env.{name}" for name, v in value.items() if old_env.get(name) != v]
        elif before.get(key) != value:
            changed.append(key)
    return changed


def render(data: dict[str, Any], like: str = "") -> str:
    """JSON text indented like the file it replaces (two spaces by default), newline-terminated."""
    return json.dumps(data, indent=_indent_of(like), ensure_ascii=False) + "\n"


def _indent_of(text: str) -> int | str:
    for line in text.splitlines()[1:]:
        body = line.lstrip(" \t")
        if body:
            lead = line[: len(line) - len(body)]
            if lead and set(lead) == {"\t"}:
                return "\t"
            if lead and set(lead) == {" "} and len(lead) <= 8:
                return len(lead)
            break
    return 2


def unified_diff(path: Path, old: str, new: str) -> str:
    """A unified diff of the file's text before and after."""
    lines = difflib.unified_diff(
        _lines(old), _lines(new), fromfile=f"{path} (before)", tofile=f"{path} (after)"
    )
    return "".join(lines)


def _lines(text: str) -> list[str]:
    return [line if line.endswith("\n") else line + "\n" for line in text.splitlines(keepends=True)]


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def replace_settings(settings: SettingsFile, text: str) -> Path | None:
    """Write `text` over the settings file, keeping the previous version; returns the backup."""
    target = Path(os.path.realpath(settings.path))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = file_mode(target)
    backup = None
    if settings.raw is not None:
        backup = backup_path(settings.path)
        write_atomic(backup, settings.raw, mode)
    write_atomic(target, text.encode("utf-8"), mode)
    return backup


def file_mode(path: Path) -> int:
    """The existing file's permission bits, else 0644: settings are not secret, and IT's copy of
    managed settings must be readable by every user."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o644
